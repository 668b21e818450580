using System.Collections.Concurrent;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;

namespace LowLatency.Tests.Engine;

/// <summary>
/// Wraps each worker's runner to count what the model ran (batches, rows, and the requests by
/// <see cref="InferenceRequest.Id"/>; warm-up's own left out) and to hold batches at a gate while it
/// is closed: a model as slow as the test needs, without timing anything. Disposed, it opens the
/// gate for good, so that an engine stopping after a failed test is not held by a closed gate.
/// </summary>
internal sealed class GatedRunners : IDisposable
{
    private readonly ManualResetEventSlim _open = new(true);
    private readonly ConcurrentDictionary<string, int> _executed = new();
    private int _batches;
    private int _rows;
    private int _running;

    /// <summary>Batches the model ran.</summary>
    public int Batches => Volatile.Read(ref _batches);

    /// <summary>Rows the model ran.</summary>
    public int Rows => Volatile.Read(ref _rows);

    /// <summary>Batches inside the runner now (held at the gate, or running).</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>How many times the model ran the request of this id (0: never).</summary>
    public int TimesRun(string id) => _executed.GetValueOrDefault(id);

    public void Close() => _open.Reset();

    public void Open() => _open.Set();

    public void Dispose() => _open.Set();

    public IBatchRunner Wrap(ModelVersion version, IBatchRunner inner) => new Runner(this, inner);

    private sealed class Runner(GatedRunners gate, IBatchRunner inner) : IBatchRunner
    {
        public void Execute(ReadOnlySpan<InferenceRequest> batch)
        {
            if (!batch[0].IsWarmUp)
            {
                Interlocked.Increment(ref gate._batches);
                foreach (var r in batch)
                {
                    Interlocked.Add(ref gate._rows, r.BatchSize);
                    gate._executed.AddOrUpdate(r.Id ?? string.Empty, 1, static (_, n) => n + 1);
                }
            }

            Interlocked.Increment(ref gate._running);
            try
            {
                gate._open.Wait();
                inner.Execute(batch);
            }
            finally
            {
                Interlocked.Decrement(ref gate._running);
            }
        }

        public void Dispose() => inner.Dispose();
    }
}
