using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Serving;

namespace LowLatency.Tests.Engine;

public sealed class WorkerCorePlacementTests
{
    [Fact]
    public void Cores_within_the_mask_are_shared_with_the_rest_of_the_process()
    {
        var e = WorkerCorePlacement.Describe([1, 1], processorCount: 2, maskCores: 2, inMask: _ => true);
        Assert.Equal(EngineEventKind.WorkerCores, e.Kind);
        Assert.False(e.IsWarning);
        Assert.Equal("device workers pinned to core 1, within this process's affinity mask: its other threads may run there too", e.Message);
    }

    [Fact]
    public void A_core_outside_the_mask_is_information_when_the_runtime_counts_it()
    {
        // taskset -c 0 with DOTNET_PROCESSOR_COUNT=2: the runtime counts both cores.
        var e = WorkerCorePlacement.Describe([1], processorCount: 2, maskCores: 1, inMask: c => c == 0);
        Assert.False(e.IsWarning);
        Assert.Equal("device workers pinned to core 1; 1 outside this process's affinity mask (taskset, isolcpus), so its other threads start on the other cores; the runtime counts 2 cores", e.Message);
    }

    [Fact]
    public void A_runtime_that_did_not_count_the_workers_cores_is_told_what_to_set()
    {
        // taskset -c 0-3 on 8 cores, workers on 4, 5 and 6: the runtime counted 4 of the 7 in use.
        var e = WorkerCorePlacement.Describe([6, 4, 5, 4], processorCount: 4, maskCores: 4, inMask: c => c < 4);
        Assert.True(e.IsWarning);
        Assert.StartsWith("device workers pinned to cores 4, 5, 6; 4, 5, 6 outside this process's affinity mask", e.Message, StringComparison.Ordinal);
        Assert.Contains("counted only 4 of the 7 cores the process uses", e.Message, StringComparison.Ordinal);
        Assert.Contains("set DOTNET_PROCESSOR_COUNT=7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_readable_mask_the_runtimes_count_stands_for_it()
    {
        var e = WorkerCorePlacement.Describe([3], processorCount: 2, maskCores: null, inMask: _ => false);
        Assert.True(e.IsWarning);
        Assert.Contains("set DOTNET_PROCESSOR_COUNT=3", e.Message, StringComparison.Ordinal);
    }
}
