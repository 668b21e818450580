using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

public sealed class WorkerCoreAssignmentTests
{
    private static EngineThreading Threading(int[] cores, int intraOpThreads) => new(WaitStrategyKind.SpinThenPark, 50, cores, intraOpThreads);

    [Fact]
    public void Without_worker_cores_nothing_is_pinned()
    {
        var threading = Threading([], 2);
        Assert.Empty(threading.NextWorkerCores());
        Assert.Empty(threading.NextWorkerCores());
    }

    [Fact]
    public void One_intra_op_thread_takes_the_cores_one_worker_after_another_across_the_engine()
    {
        var threading = Threading([1, 2, 3], 1);
        Assert.Equal([1], threading.NextWorkerCores());
        Assert.Equal([2], threading.NextWorkerCores());
        Assert.Equal([3], threading.NextWorkerCores());
        Assert.Equal([1], threading.NextWorkerCores());
    }

    [Fact]
    public void Each_worker_takes_as_many_cores_as_it_has_intra_op_threads()
    {
        var threading = Threading([2, 3, 4, 5, 6, 7], 2);
        Assert.Equal([2, 3], threading.NextWorkerCores());
        Assert.Equal([4, 5], threading.NextWorkerCores());
        Assert.Equal([6, 7], threading.NextWorkerCores());
        Assert.Equal([2, 3], threading.NextWorkerCores());

        // Not a multiple: the list wraps, so every core is used as often as any other.
        var odd = Threading([0, 1, 2], 2);
        Assert.Equal([0, 1], odd.NextWorkerCores());
        Assert.Equal([2, 0], odd.NextWorkerCores());
        Assert.Equal([1, 2], odd.NextWorkerCores());
    }

    [Fact]
    public void More_intra_op_threads_than_listed_cores_share_the_whole_list()
    {
        var threading = Threading([4, 5], 8);
        Assert.Equal([4, 5], threading.NextWorkerCores());
        Assert.Equal([4, 5], threading.NextWorkerCores());
    }
}
