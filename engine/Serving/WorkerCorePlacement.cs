using LowLatency.Engine.Diagnostics;

namespace LowLatency.Engine.Serving;

/// <summary>
/// What the load log says about <c>WorkerCores</c>. A core outside the affinity mask the process
/// started with (taskset, isolcpus) is one no other thread of the process starts on; but the
/// runtime counted only the mask's cores at start, and a runtime that counts one core runs as on a
/// uniprocessor (its thread pool stops spinning), which made every hand-off to an isolated worker
/// slower than not isolating it at all (docs/performance.md#worker-cores). So it warns, naming the
/// DOTNET_PROCESSOR_COUNT to set.

/// </summary>
internal static class WorkerCorePlacement
{
    /// <param name="cores">The configured worker cores, possibly repeated.</param>
    /// <param name="processorCount">The runtime's core count (<see cref="Environment.ProcessorCount"/>).</param>
    /// <param name="maskCores">How many cores the process's affinity mask holds; null when unknown.</param>
    /// <param name="inMask">Whether a core is in that mask.</param>
    public static EngineEvent Describe(IReadOnlyList<int> cores, int processorCount, int? maskCores, Func<int, bool> inMask)
    {
        var distinct = new SortedSet<int>(cores);
        var outside = new SortedSet<int>();
        foreach (int core in distinct)
        {
            if (!inMask(core))
            {
                outside.Add(core);
            }
        }

        string pinned = $"device workers pinned to core{(distinct.Count == 1 ? "" : "s")} {string.Join(", ", distinct)}";
        if (outside.Count == 0)
        {
            return new(EngineEventKind.WorkerCores, null, null, $"{pinned}, within this process's affinity mask: its other threads may run there too");
        }

        string kept = $"{pinned}; {string.Join(", ", outside)} outside this process's affinity mask (taskset, isolcpus), so its other threads start on the other cores";
        int used = (maskCores ?? processorCount) + outside.Count;
        return processorCount >= used
            ? new(EngineEventKind.WorkerCores, null, null, $"{kept}; the runtime counts {processorCount} cores")
            : new(EngineEventKind.WorkerCores, null, null,
                $"{kept}; but the runtime counted only {processorCount} of the {used} cores the process uses, and sized its thread pool for that: set DOTNET_PROCESSOR_COUNT={used} (counting one core, the runtime's thread pool stops spinning and hand-offs to the workers slow down)",
                IsWarning: true);
    }
}
