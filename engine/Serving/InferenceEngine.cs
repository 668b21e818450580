using System.Collections.Frozen;
using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Repository;
using LowLatency.Native.Torch;

namespace LowLatency.Engine.Serving;

/// <summary>
/// The engine: the models being served, looked up by name without a lock (an immutable snapshot).
/// <see cref="Scan"/> validates the repository; <see cref="Load"/> loads and warms every model.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly EngineOptions _options;
    private IReadOnlyList<ModelDefinition> _definitions = [];
    private FrozenDictionary<string, ServedModel> _models = FrozenDictionary<string, ServedModel>.Empty;
    private volatile bool _ready;
    private volatile bool _stopping;

    public InferenceEngine(EngineOptions options)
    {
        _options = options;
    }

    public bool IsReady => _ready;

    public LibTorchLoadReport? NativeReport { get; private set; }

    public IReadOnlyCollection<ServedModel> Models => _models.Values;

    /// <summary>Whether this process may give a thread <paramref name="nice"/>: tried on a short-lived thread.</summary>
    private static bool NiceAllowed(int nice)
    {
        bool allowed = false;
        var probe = new Thread(() => allowed = Native.Threading.ThreadTuning.SetNice(nice)) { IsBackground = true };
        probe.Start();
        probe.Join();
        return allowed;
    }

    /// <summary>Reads and validates every configuration in the repository; loads nothing.</summary>
    public IReadOnlyList<ModelDefinition> Scan() => _definitions = ModelRepository.Scan(_options.ModelRepository);

    /// <summary>Loads libtorch and every scanned model, warms each up, then marks the engine ready.</summary>
    public void Load(Action<string>? log = null)
    {
        NativeReport = TorchRuntime.Initialize(_options.IntraOpThreads);
        log?.Invoke($"libtorch: {NativeReport.Reason}");
        var threading = new Scheduling.EngineThreading(_options.WaitStrategy, _options.SpinMicroseconds, _options.WorkerCores, _options.IntraOpThreads, _options.ThreadNice);
        if (_options.ThreadNice != 0)
        {
            log?.Invoke(NiceAllowed(_options.ThreadNice)
                ? $"engine threads run at nice {_options.ThreadNice}"
                : $"warning: engine threads cannot run at nice {_options.ThreadNice} (needs CAP_SYS_NICE or RLIMIT_NICE); they run at the default");
        }

        var models = new Dictionary<string, ServedModel>(StringComparer.Ordinal);
        foreach (var def in _definitions)
        {
            var versions = new SortedDictionary<long, ModelVersion>();
            foreach (var (v, file) in def.VersionFiles)
            {
                var version = new ModelVersion(def.Config, v, TorchScriptModel.Load(file, def.Config), threading);
                try
                {
                    version.WarmUp();
                }
                catch
                {
                    version.Dispose();
                    throw;
                }

                versions[v] = version;
                log?.Invoke($"loaded model '{def.Config.Name}' version {v} from {file}");
            }

            models[def.Config.Name] = new ServedModel(def.Config, versions);
        }

        _models = models.ToFrozenDictionary(StringComparer.Ordinal);
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
    }

    /// <summary>Stops accepting work; every queued request is answered before this returns.</summary>
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

    public void Dispose()
    {
        _ready = false;
        foreach (var m in _models.Values)
        {
            foreach (var v in m.Versions.Values)
            {
                v.Dispose();
            }
        }
    }
}
