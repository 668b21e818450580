using System.Collections.Concurrent;
using System.Collections.Frozen;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;
using LowLatency.Native.Torch;

namespace LowLatency.Engine.Serving;

/// <summary>
/// The engine: the models being served, published as an immutable routing table that requests read
/// without a lock and the model loader replaces atomically. <see cref="Scan"/> validates what will
/// be loaded at start; <see cref="Load"/> loads and warms it. Routing is in InferenceEngine.Routing.cs,
/// the repository operations (load, unload, poll, traffic, index) in InferenceEngine.Repository.cs.
/// </summary>
public sealed partial class InferenceEngine : IDisposable
{
    private readonly EngineOptions _options;
    private readonly EngineServices _services;
    private readonly Lock _publish = new();
    private readonly ConcurrentDictionary<string, ModelStatus> _status = new(StringComparer.Ordinal);
    private IReadOnlyList<ModelDefinition> _definitions = [];
    private volatile FrozenDictionary<string, ServedModel> _models = FrozenDictionary<string, ServedModel>.Empty;
    private readonly List<string> _skippedAtScan = [];
    private EngineThreading? _threading;
    private volatile ModelLoaderThread? _loader;
    private Timer? _poll;
    private Autoscaler? _autoscaler;
    private Action<EngineEvent>? _log;
    private volatile bool _ready;
    private volatile bool _stopping;
    private bool _disposed;

    public InferenceEngine(EngineOptions options)
    {
        _options = options;
        _services = options.Services with { Limits = new RequestLimits(options.MaxTensorElements, options.MaxBatchRowsPerRequest) };
    }

    public bool IsReady => _ready;

    public LibTorchLoadReport? NativeReport { get; private set; }

    public IReadOnlyCollection<ServedModel> Models => _models.Values;

    public ModelControlMode ControlMode => _options.ModelControlMode;

    /// <summary>Whether this process may give a thread a priority: <paramref name="apply"/> tried on a short-lived thread.</summary>
    private static bool Allowed(Func<bool> apply)
    {
        bool allowed = false;
        var probe = new Thread(() => allowed = apply()) { IsBackground = true };
        probe.Start();
        probe.Join();
        return allowed;
    }

    /// <summary>
    /// Reads and validates every configuration loaded at start (all of them, or under
    /// <c>Explicit</c> the startup models); loads nothing. Throws naming the file and field.
    /// </summary>
    public IReadOnlyList<ModelDefinition> Scan()
    {
        var names = ModelRepository.List(_options.ModelRepository);
        if (_options.ModelControlMode == ModelControlMode.Explicit && !_options.StartupModels.Contains("*"))
        {
            foreach (var n in _options.StartupModels)
            {
                if (!names.Contains(n))
                {
                    throw new ModelConfigException(_options.ModelRepository, "StartupModels", $"'{n}' is not a model of the repository");
                }
            }

            names = _options.StartupModels;
        }

        var definitions = new List<ModelDefinition>();
        bool listed = !ReferenceEquals(names, _options.StartupModels);
        foreach (var n in names)
        {
            try
            {
                definitions.Add(ModelRepository.Read(_options.ModelRepository, n, null, _options.CheckConfig));
            }
            catch (ModelConfigException e) when (listed && _options.CheckConfig is null && e.Message.EndsWith(ModelRepository.NoFeatureStore, StringComparison.Ordinal))
            {
                // A model that joins features where there is no feature store cannot serve here, and
                // the rest of the repository can: it is left unloaded, its reason in the index and the log.
                SetStatus(n, new Dictionary<long, (string, string)>(), e.Message);
                _skippedAtScan.Add($"model '{n}' is not loaded: {e.Message}");
            }
        }

        return _definitions = definitions;
    }

    /// <summary>
    /// Loads libtorch and every scanned model on the loader thread, warms each up, then marks the
    /// engine ready. A model that fails to load at start throws (the host exits), as Triton does.
    /// </summary>
    public void Load(Action<EngineEvent>? log = null)
    {
        _log = log;
        foreach (var skipped in _skippedAtScan)
        {
            log?.Invoke(new(EngineEventKind.LoadFailed, null, null, skipped, IsWarning: true));
        }

        NativeReport = TorchRuntime.Initialize(_options.IntraOpThreads);
        log?.Invoke(new(EngineEventKind.Runtime, null, null, $"libtorch: {NativeReport.Reason}"));
        _threading = new EngineThreading(_options.WaitStrategy, _options.SpinMicroseconds, _options.WorkerCores, _options.IntraOpThreads, _options.ThreadNice)
        {
            DefaultMaxQueueSize = _options.MaxQueueSize,
            RealtimePriority = _options.WorkerRealtimePriority,
            CallerRuns = _options.CallerRuns,
            AnswerPolling = new AnswerPolling(_options.AnswerPollMicroseconds, Math.Max(1, Environment.ProcessorCount / 2)),
        };
        if (_options.ThreadNice != 0)
        {
            log?.Invoke(Allowed(() => Native.Threading.ThreadTuning.SetNice(_options.ThreadNice))
                ? new(EngineEventKind.ThreadPriority, null, null, $"engine threads run at nice {_options.ThreadNice}")
                : new(EngineEventKind.ThreadPriority, null, null, $"engine threads cannot run at nice {_options.ThreadNice} (needs CAP_SYS_NICE or RLIMIT_NICE); they run at the default", IsWarning: true));
        }

        if (_options.WorkerRealtimePriority != 0)
        {
            log?.Invoke(Allowed(() => Native.Threading.ThreadTuning.UseRealtimePriority(_options.WorkerRealtimePriority))
                ? new(EngineEventKind.ThreadPriority, null, null, $"device workers run at SCHED_FIFO priority {_options.WorkerRealtimePriority}")
                : new(EngineEventKind.ThreadPriority, null, null, $"device workers cannot run at SCHED_FIFO priority {_options.WorkerRealtimePriority} (needs CAP_SYS_NICE or RLIMIT_RTPRIO); they run as ordinary threads", IsWarning: true));
        }

        if (_options.WorkerCores.Length > 0)
        {
            log?.Invoke(WorkerCorePlacement.Describe(_options.WorkerCores, Environment.ProcessorCount, Native.Threading.ThreadTuning.AllowedCoreCount(), Native.Threading.ThreadTuning.MayRunOn));
        }

        _loader = new ModelLoaderThread();
        if (_stopping)
        {
            // Shutdown began before the loader existed: BeginStopping had nothing to stop.
            _loader.Stop();
        }

        bool loaded = _loader.Run(() =>
        {
            foreach (var def in _definitions)
            {
                if (_stopping)
                {
                    return false;
                }

                var outcome = LoadOnLoader(def.Config.Name, def, reuseUnchanged: false);
                if (!outcome.Succeeded)
                {
                    throw new ModelConfigException(def.Directory, outcome.Error!);
                }
            }

            return true;
        }, abandoned: _ => false).GetAwaiter().GetResult();
        if (!loaded)
        {
            throw new OperationCanceledException("the server is shutting down: loading at start-up was abandoned");
        }

        if (_options.ModelControlMode == ModelControlMode.Poll)
        {
            var every = TimeSpan.FromSeconds(Math.Max(0.05, _options.RepositoryPollSeconds));
            _poll = new Timer(_ => QueuePoll(), null, every, every);
        }

        _autoscaler = new Autoscaler(this, _services.Clock, _options.IntraOpThreads, _log);
        _ready = true;
    }

    public bool TryGetModel(string name, out ServedModel model) => _models.TryGetValue(name, out model!);

    /// <summary>True from the moment shutdown begins: readiness is false and new requests are refused.</summary>
    public bool IsStopping => _stopping;

    /// <summary>
    /// Shutdown has begun (SIGTERM): readiness turns false at once so load balancers stop sending,
    /// new requests are refused (503), and requests already accepted still run and are answered.
    /// </summary>
    public void BeginStopping()
    {
        _stopping = true;
        _ready = false;
        _autoscaler?.Dispose();
        // Loads and unloads not yet started are answered (503) now rather than run after the drain.
        _loader?.Stop();
    }

    /// <summary>
    /// Answers the load or unload running on the loader thread now (503) and drops whatever it
    /// produces: shutdown does not wait for a load past its drain deadline. Also stops the loader,
    /// as <see cref="BeginStopping"/> does.
    /// </summary>
    public void AbandonLoads() => _loader?.Abandon();

    /// <summary>
    /// <see cref="AbandonLoads"/>, then waits up to <paramref name="timeout"/> for the loader thread to
    /// end: an abandoned load stops between warm-up batches, and a process that exits while that
    /// thread is inside libtorch can crash in libtorch's static destructors. Whether it ended.
    /// </summary>
    public bool StopLoads(TimeSpan timeout)
    {
        AbandonLoads();
        return _loader?.Join(timeout) ?? true;
    }

    /// <summary>Requests submitted to any served version and not yet answered.</summary>
    public int InFlight
    {
        get
        {
            int n = 0;
            foreach (var m in _models.Values)
            {
                foreach (var v in m.Versions.Values)
                {
                    n += v.InFlight;
                }
            }

            return n;
        }
    }

    /// <summary>
    /// Stops accepting work; every queued request is answered before this returns. Loads not started
    /// are answered 503; a running load is waited for unless <see cref="AbandonLoads"/> answered it.
    /// </summary>
    public void Dispose()
    {
        _ready = false;
        _stopping = true;
        _poll?.Dispose();
        _autoscaler?.Dispose();
        _loader?.Dispose();
        FrozenDictionary<string, ServedModel> models;
        lock (_publish)
        {
            // An abandoned load that finishes after this publishes nothing (LoadOnLoader).
            _disposed = true;
            models = _models;
        }

        foreach (var m in models.Values)
        {
            foreach (var v in m.Versions.Values)
            {
                v.Dispose();
            }
        }
    }
}
