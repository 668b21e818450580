using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>Thread settings for schedulers and workers.</summary>
internal sealed record EngineThreading(WaitStrategyKind WaitStrategy, long SpinMicroseconds, IReadOnlyList<int> WorkerCores, int IntraOpThreads, int Nice = 0)
{
    /// <summary>The queue bound per priority level where a model's queue policy sets none (0: unbounded).</summary>
    public int DefaultMaxQueueSize { get; init; }

    /// <summary>SCHED_FIFO priority of the device workers (1 … 99); 0: ordinary scheduling.</summary>
    public int RealtimePriority { get; init; }

    /// <summary>
    /// Whether a request thread that finds its model's worker idle and nothing else queued runs its
    /// batch of one itself (<c>LowLatency:CallerRuns</c>); see <see cref="SchedulerThread{TWait}"/>.
    /// </summary>
    public bool CallerRuns { get; init; }

    /// <summary>Which submitters spin for their answers; shared by every model version of the engine.</summary>
    public AnswerPolling AnswerPolling { get; init; } = AnswerPolling.Off;

    // Workers given cores so far, across every model and version of the engine.
    private int _workersPlaced;

    /// <summary>
    /// The cores of the next device worker, engine-wide round-robin over <see cref="WorkerCores"/>:
    /// each worker takes <see cref="IntraOpThreads"/> consecutive entries (at most all of them), so
    /// that its intra-op threads, which inherit its affinity, get cores of their own rather than
    /// sharing its one; empty when nothing is pinned. Workers of different models take different
    /// cores while the list lasts.
    /// </summary>
    internal int[] NextWorkerCores()
    {
        int n = WorkerCores.Count;
        if (n == 0)
        {
            return [];
        }

        int each = Math.Clamp(IntraOpThreads, 1, n);
        int first = (int)((uint)(Interlocked.Increment(ref _workersPlaced) - 1) * (long)each % n);
        var cores = new int[each];
        for (int j = 0; j < each; j++)
        {
            cores[j] = WorkerCores[(first + j) % n];
        }

        return cores;
    }

    /// <summary>
    /// The cores of the <paramref name="index"/>-th instance of a group pinned to <paramref name="cores"/>:
    /// <paramref name="intraOpThreads"/> consecutive entries (at most all of them), round-robin, as
    /// <see cref="NextWorkerCores"/> takes them from the engine-wide list, so that two instances of
    /// a group share a core only once the group's list is used up.
    /// </summary>
    internal static int[] CoresOf(IReadOnlyList<int> cores, int index, int intraOpThreads)
    {
        int n = cores.Count;
        int each = Math.Clamp(intraOpThreads, 1, n);
        int first = (int)((long)index * each % n);
        var taken = new int[each];
        for (int j = 0; j < each; j++)
        {
            taken[j] = cores[(first + j) % n];
        }

        return taken;
    }

    /// <summary>Applies the per-thread settings every engine thread shares; on the thread itself.</summary>
    internal void ApplyToCurrentThread()
    {
        ThreadTuning.UsePreciseTimers();
        if (Nice != 0)
        {
            ThreadTuning.SetNice(Nice);
        }
    }
}
