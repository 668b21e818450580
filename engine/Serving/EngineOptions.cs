using LowLatency.Engine.Repository;
using LowLatency.Engine.Scheduling;

namespace LowLatency.Engine.Serving;

/// <summary>Engine settings; the host binds them from the <c>LowLatency</c> configuration section.</summary>
public sealed class EngineOptions
{
    /// <summary>The model repository directory.</summary>
    public string ModelRepository { get; set; } = "models";

    /// <summary>
    /// libtorch's intra-op thread pool size (process-wide). Default 1: on a small host (2 cores here)
    /// the device worker and Kestrel's I/O already want both cores, and a parallel region for a
    /// microsecond-scale kernel costs more in wake-ups than it saves. On a many-core host with large
    /// batches (the image classifier), raise it to the cores each worker may own.
    /// </summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>How schedulers and device workers wait; see <see cref="WaitStrategyKind"/>.</summary>
    public WaitStrategyKind WaitStrategy { get; set; } = WaitStrategyKind.SpinThenPark;

    /// <summary>
    /// How long a thread spins before parking under <c>SpinThenPark</c>. 50 µs covers the gap between
    /// back-to-back requests of a busy client, so hand-offs under load need no wake-up, and an idle
    /// server burns at most 50 µs of CPU per request.
    /// </summary>
    public long SpinMicroseconds { get; set; } = 50;

    /// <summary>
    /// Nice value for the engine's own threads (device workers and schedulers), -20 … 19; 0 leaves
    /// them as they are. A negative value lets a device thread woken for a batch take a core from
    /// request threads at once instead of waiting its turn, where cores are oversubscribed. It made
    /// no consistent difference on a 2-core host (docs/performance.md#thread-priority), so it is off
    /// by default. Raising priority needs CAP_SYS_NICE (or an RLIMIT_NICE allowing it); when
    /// refused the threads run at the default and the load log says so.
    /// </summary>
    public int ThreadNice { get; set; }

    /// <summary>
    /// SCHED_FIFO priority (1 … 99) for the device workers; 0, the default, leaves them ordinary
    /// threads. A realtime worker is never preempted by request threads while it waits for or runs
    /// a batch, and takes its core back the moment it is woken, which lowers the engine's
    /// scheduling overhead. Its cost is the other threads' on that core, which wait while it
    /// computes or spins: through HTTP on a 2-core host the server answered a third less under load
    /// (docs/performance.md#thread-priority), hence off by default; for hosts with cores to spare
    /// beside the workers. Needs CAP_SYS_NICE or
    /// RLIMIT_RTPRIO; when refused the workers run as ordinary threads and the load log says so.
    /// Not with <c>WaitStrategy=Spin</c>.
    /// </summary>
    public int WorkerRealtimePriority { get; set; }

    /// <summary>
    /// How long (µs) the submitter of a request alone in flight on its model version spins for the
    /// answer instead of awaiting it, when the request is dispatched at once and its batch is
    /// estimated to take no longer; 0, the default, turns it off. It saves the thread-pool hop
    /// between the device thread and the request's continuation, which shows in the engine
    /// benchmark's low-load overhead when that scenario runs alone; off by default because the
    /// saturation scenarios ran worse after polled low-load ones, and through HTTP the client sees
    /// no more than noise either way (docs/performance.md#answer-polling). At most half the cores
    /// spin so at once; with more than one request in flight nobody does.

    /// </summary>
    public long AnswerPollMicroseconds { get; set; }

    /// <summary>
    /// Whether a request thread may run its own batch of one (caller runs), on by default: when the
    /// model's worker is idle, nothing else is queued and the request's class has no batching window,
    /// the thread that submitted it runs the forward itself (in the worker's thread state, with the
    /// worker's buffers) and continues with the answer, with no wake-up of the device thread and no
    /// hand-off back to the thread pool. Under load nothing changes: queued requests go to the device
    /// workers, batched and ordered as before. Only for the CPU, and never with <see cref="WorkerCores"/>
    /// or <see cref="WorkerRealtimePriority"/> set (they say where the model must run); false keeps
    /// every forward on the device threads (docs/performance.md#caller-runs).
    /// </summary>
    public bool CallerRuns { get; set; } = true;

    /// <summary>
    /// Cores to pin device workers to (for example <c>[1]</c>); empty: no pinning. Round-robin over the
    /// workers of every model, each taking <see cref="IntraOpThreads"/> consecutive entries, where its
    /// intra-op threads run too. They may lie outside the affinity mask the process started with
    /// (taskset, isolcpus), which is how a worker gets cores that nothing else of the process runs on.
    /// </summary>
    public int[] WorkerCores { get; set; } = [];

    /// <summary>How models are loaded and unloaded: <c>All</c> (default), <c>Explicit</c> or <c>Poll</c>.</summary>
    public ModelControlMode ModelControlMode { get; set; } = ModelControlMode.All;

    /// <summary>Under <c>Explicit</c>: the models loaded at start (<c>*</c> for all of them).</summary>
    public string[] StartupModels { get; set; } = [];

    /// <summary>Under <c>Poll</c>: seconds between scans of the repository.</summary>
    public double RepositoryPollSeconds { get; set; } = 5;

    /// <summary>
    /// Requests each priority level of a model may hold queued where the model's queue policy sets
    /// no <c>max_queue_size</c> (Triton's 0, unbounded): past it, 429 at once. Without it a request
    /// with no deadline would queue as long as clients keep connections open.
    /// </summary>
    public int MaxQueueSize { get; set; } = 1024;

    /// <summary>Most elements one input tensor may have (400 above it, naming this setting).</summary>
    public long MaxTensorElements { get; set; } = 1L << 26;

    /// <summary>Most rows (batch dimension) one request may carry; 0: up to each model's <c>max_batch_size</c>.</summary>
    public int MaxBatchRowsPerRequest { get; set; }

    /// <summary>
    /// Checks each model configuration as it is read, with the file it came from, and throws
    /// <see cref="Config.ModelConfigException"/> to refuse it (the feature store checks a model's
    /// <c>features</c> against its repository); returns the configuration to serve, completed with
    /// what only the checker knows (which entity inputs take STRING ids). Null: a configuration with
    /// <c>features</c> is refused, as nothing could join them.
    /// </summary>
    public Func<Config.ModelConfig, string, Config.ModelConfig>? CheckConfig { get; set; }

    /// <summary>
    /// What is wrong with these settings, one line each naming the setting (empty when nothing is):
    /// a value outside its range would otherwise serve on quietly wrong (every request refused, a
    /// poll loop without pause, workers silently not pinned).
    /// </summary>
    public IEnumerable<string> Problems()
    {
        if (IntraOpThreads < 1)
        {
            yield return $"LowLatency:IntraOpThreads must be 1 or more (libtorch's intra-op threads), not {IntraOpThreads}";
        }

        if (SpinMicroseconds < 0)
        {
            yield return $"LowLatency:SpinMicroseconds must be 0 or more, not {SpinMicroseconds}";
        }

        if (AnswerPollMicroseconds is < 0 or > 1_000_000)
        {
            yield return $"LowLatency:AnswerPollMicroseconds must be within 0 … 1000000 (0: off), not {AnswerPollMicroseconds}";
        }

        if (ThreadNice is < -20 or > 19)
        {
            yield return $"LowLatency:ThreadNice must be within -20 … 19, not {ThreadNice}";
        }

        if (WorkerRealtimePriority is < 0 or > 99)
        {
            yield return $"LowLatency:WorkerRealtimePriority must be within 0 … 99 (0: off; 1 … 99: SCHED_FIFO priority), not {WorkerRealtimePriority}";
        }
        else if (WorkerRealtimePriority > 0 && WaitStrategy == WaitStrategyKind.Spin)
        {
            yield return "LowLatency:WorkerRealtimePriority cannot be used with LowLatency:WaitStrategy=Spin: a realtime worker that never parks holds its core against every other thread, always";
        }

        foreach (int core in WorkerCores)
        {
            if (!LowLatency.Native.Threading.ThreadTuning.CanPinTo(core))
            {
                yield return $"LowLatency:WorkerCores lists core {core}, to which this process may not pin a thread (no such core, offline, or outside a container's cpuset)";
            }
        }

        if (!(RepositoryPollSeconds > 0))
        {
            yield return $"LowLatency:RepositoryPollSeconds must be more than 0, not {RepositoryPollSeconds}";
        }

        if (MaxQueueSize < 1)
        {
            yield return $"LowLatency:MaxQueueSize must be 1 or more (the queue bound of models whose policy sets none), not {MaxQueueSize}";
        }

        if (MaxTensorElements < 1)
        {
            yield return $"LowLatency:MaxTensorElements must be 1 or more, not {MaxTensorElements}";
        }

        if (MaxBatchRowsPerRequest < 0)
        {
            yield return $"LowLatency:MaxBatchRowsPerRequest must be 0 (each model's max_batch_size) or more, not {MaxBatchRowsPerRequest}";
        }
    }

    /// <summary>The clock, routing epoch and test hooks shared by this engine's versions (not a setting).</summary>
    internal EngineServices Services { get; set; } = EngineServices.Default();
}
