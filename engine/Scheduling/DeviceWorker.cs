using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using TorchSharp;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// A dedicated, named OS thread that runs one model version's batches: model execution never runs on
/// the .NET thread pool, and completions are dispatched asynchronously, so no ASP.NET continuation
/// ever runs here. Takes what is queued, up to <c>max_batch_size</c> rows, as one batch.
/// </summary>
internal sealed class DeviceWorker : IDisposable
{
    private readonly ModelConfig _config;
    private readonly RequestQueue _queue;
    private readonly BatchExecutor _executor;
    private readonly InferenceRequest[] _batch;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _thread;
    private readonly bool _canPad;
    private InferenceRequest? _carry;
    private int _parked;
    private volatile bool _stopping;

    public DeviceWorker(ModelConfig config, TorchScriptModel model, RequestQueue queue, string name)
    {
        _config = config;
        _queue = queue;
        _executor = new BatchExecutor(config, model);
        _batch = new InferenceRequest[Math.Max(1, config.MaxBatchSize)];
        // Padding changes an output's variable dimensions, so a model with such outputs only batches
        // requests of identical shapes.
        _canPad = config.Outputs.All(o => !o.HasVariableDims);
        _thread = new Thread(Run) { Name = name, IsBackground = true };
    }

    public void Start() => _thread.Start();

    /// <summary>Runs one batch of generated inputs on this worker's thread before serving.</summary>
    public void WarmUp(InferenceRequest request) => _queue.Enqueue(request);

    /// <summary>Wakes this worker if it is parked; false when it is busy (it will look at the queue again).</summary>
    public bool TryWake()
    {
        if (Volatile.Read(ref _parked) == 1 && Interlocked.Exchange(ref _parked, 0) == 1)
        {
            _signal.Release();
            return true;
        }

        return false;
    }

    /// <summary>Stops after every queued request is answered.</summary>
    public void Stop()
    {
        _stopping = true;
        _signal.Release();
        _thread.Join();
    }

    private void Run()
    {
        // Grad mode is thread-local in libtorch: set once, for the thread's life.
        using var inference = torch.inference_mode();
        while (true)
        {
            int n = Gather();
            if (n == 0)
            {
                if (_stopping && _queue.IsEmpty)
                {
                    return;
                }

                Park();
                continue;
            }

            RunBatch(n);
        }
    }

    private int Gather()
    {
        InferenceRequest? first = _carry;
        _carry = null;
        if (first is null && !_queue.TryDequeue(out first))
        {
            return 0;
        }

        _batch[0] = first;
        int n = 1;
        int rows = first.BatchSize;
        if (!_config.Batched)
        {
            return 1;
        }

        while (n < _batch.Length && _queue.TryDequeue(out var next))
        {
            if (rows + next.BatchSize > _config.MaxBatchSize || !Compatible(first, next))
            {
                _carry = next;
                break;
            }

            _batch[n++] = next;
            rows += next.BatchSize;
        }

        return n;
    }

    private bool Compatible(InferenceRequest a, InferenceRequest b)
    {
        if (_canPad)
        {
            return true;
        }

        for (int i = 0; i < a.InputCount; i++)
        {
            if (!a.InputShape(i)[1..].SequenceEqual(b.InputShape(i)[1..]))
            {
                return false;
            }
        }

        return true;
    }

    private void RunBatch(int n)
    {
        var batch = _batch.AsSpan(0, n);
        try
        {
            _executor.Execute(batch);
            foreach (var r in batch)
            {
                r.Complete();
            }
        }
        catch (Exception e) when (n > 1)
        {
            // One request's input may have made the whole batch fail: run each alone so the others
            // still get their answers and only the culprit gets the error.
            _ = e;
            foreach (var r in batch)
            {
                RunAlone(r);
            }
        }
        catch (Exception e)
        {
            Fail(batch[0], e);
        }

        batch.Clear();
    }

    private void RunAlone(InferenceRequest r)
    {
        try
        {
            _executor.Execute(new ReadOnlySpan<InferenceRequest>(ref r));
            r.Complete();
        }
        catch (Exception e)
        {
            Fail(r, e);
        }
    }

    private void Fail(InferenceRequest r, Exception e)
    {
        // A model rejects input it cannot take by raising ValueError (see README); anything else is a
        // fault of the model or the server.
        string line = TorchScriptModel.FirstLine(e.Message);
        if (line.StartsWith("builtins.ValueError: ", StringComparison.Ordinal))
        {
            r.Fail(InferenceStatus.BadRequest, $"model '{_config.Name}' rejected the input: {line["builtins.ValueError: ".Length..]}");
        }
        else
        {
            r.Fail(InferenceStatus.ModelError, $"model '{_config.Name}' failed: {line}");
        }
    }

    private void Park()
    {
        Volatile.Write(ref _parked, 1);
        // Re-check after announcing: a producer that enqueued before seeing the flag did not wake us.
        if (!_queue.IsEmpty || _stopping)
        {
            if (Interlocked.Exchange(ref _parked, 0) == 1)
            {
                return;
            }

            // A producer took the flag and released the signal: consume that release.
        }

        _signal.Wait();
    }

    public void Dispose()
    {
        _executor.Dispose();
        _signal.Dispose();
    }
}
