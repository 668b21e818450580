using System.Collections.Concurrent;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;

namespace LowLatency.Tests.Routing;

/// <summary>Wraps each worker's runner so a test can make a version throw or run slow, and heal it again.</summary>
internal sealed class FaultInjector
{
    private readonly ConcurrentDictionary<(string, long), Fault> _faults = new();

    public void Throw(long version, string model = "ctr-ranker") => _faults[(model, version)] = new Fault(true, TimeSpan.Zero);

    public void Slow(long version, TimeSpan by, string model = "ctr-ranker") => _faults[(model, version)] = new Fault(false, by);

    public void Heal(long version, string model = "ctr-ranker") => _faults.TryRemove((model, version), out _);

    public IBatchRunner Wrap(ModelVersion version, IBatchRunner inner) => new Runner(this, (version.Config.Name, version.Version), inner);

    private sealed record Fault(bool Throws, TimeSpan Delay);

    private sealed class Runner(FaultInjector faults, (string Model, long Version) version, IBatchRunner inner) : IBatchRunner
    {
        public void Execute(ReadOnlySpan<InferenceRequest> batch)
        {
            if (faults._faults.TryGetValue(version, out var f))
            {
                if (f.Throws)
                {
                    throw new InvalidOperationException($"injected fault in {version.Model} version {version.Version}");
                }

                // A slow model is the fault itself: the batch takes this much longer.
                Thread.Sleep(f.Delay);
            }

            inner.Execute(batch);
        }

        public void Dispose() => inner.Dispose();
    }
}
