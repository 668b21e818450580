using System.Collections.Frozen;
using System.Globalization;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Repository;

namespace LowLatency.Engine.Serving;

/// <summary>
/// The repository operations: load (read, build, warm up, then publish), unload, poll, traffic and
/// the index. Loads and unloads run on the loader thread; publishing swaps the routing table under
/// a lock held only for the swap. A version a new table no longer holds is retired: requests
/// already routed to it finish on it, and the last one frees it.
/// </summary>
public sealed partial class InferenceEngine
{
    /// <summary>Loads (or reloads) a model off the request path; completes once it serves or failed.</summary>
    public Task<RepositoryOutcome> LoadModelAsync(string name, string? configOverride)
    {
        if (Refused(name, "load") is { } refused)
        {
            return Task.FromResult(refused);
        }

        return _loader!.Run(() =>
        {
            ModelDefinition def;
            try
            {
                def = ModelRepository.Read(_options.ModelRepository, name, configOverride, _options.CheckConfig);
            }
            catch (ModelConfigException e)
            {
                return Failed(name, e.Message, notFound: !Directory.Exists(ModelRepository.ModelDirectory(_options.ModelRepository, name)));
            }

            return LoadOnLoader(name, def, reuseUnchanged: false);
        }, started => ShuttingDown(name, "load", started));
    }

    /// <summary>Unloads a model: new requests get 404 at once, those already routed finish.</summary>
    public Task<RepositoryOutcome> UnloadModelAsync(string name)
    {
        if (Refused(name, "unload") is { } refused)
        {
            return Task.FromResult(refused);
        }

        return _loader!.Run(() => UnloadOnLoader(name, "unloaded"), started => ShuttingDown(name, "unload", started));
    }

    /// <summary>Sets the traffic split of a served model (the same document as config.json's <c>traffic</c>).</summary>
    public RepositoryOutcome SetTraffic(string name, IReadOnlyDictionary<long, int> weights)
    {
        lock (_publish)
        {
            if (!_models.TryGetValue(name, out var served))
            {
                return RepositoryOutcome.NotFound($"model {ClientText.Quoted(name)} is not being served");
            }

            foreach (var v in weights.Keys)
            {
                if (!served.Versions.ContainsKey(v))
                {
                    return RepositoryOutcome.BadRequest($"traffic.{v}: version {v} of model '{name}' is not served; served: {string.Join(", ", served.Versions.Keys)}");
                }
            }

            var next = new ServedModel(served.Config, served.Versions, weights, trafficFromApi: weights.Count > 0, _services.Epoch);
            PublishLocked(name, next);
        }

        _log?.Invoke(new(EngineEventKind.TrafficSet, name, null, $"model '{name}' traffic set to {Describe(weights)}"));
        return RepositoryOutcome.Ok;
    }

    /// <summary>Every model in the repository with each version's state (Triton's repository index).</summary>
    public IReadOnlyList<IndexEntry> Index(bool readyOnly)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            names.UnionWith(ModelRepository.List(_options.ModelRepository));
        }
        catch (ModelConfigException)
        {
            // The repository directory went away: what is served is still listed.
        }

        names.UnionWith(_models.Keys);
        var entries = new List<IndexEntry>();
        foreach (var name in names)
        {
            var status = _status.GetValueOrDefault(name, ModelStatus.None);
            if (status.Versions.Count == 0)
            {
                if (!readyOnly)
                {
                    entries.Add(status.LastFailure is null ? new IndexEntry(name, null, null, null) : new IndexEntry(name, null, "UNAVAILABLE", status.LastFailure));
                }

                continue;
            }

            foreach (var (v, (state, reason)) in status.Versions.OrderBy(p => p.Key))
            {
                if (readyOnly && state != "READY")
                {
                    continue;
                }

                string why = state == "READY" && status.LastFailure is not null ? $"the last load failed, the previous one still serves: {status.LastFailure}" : reason;
                int? instances = _models.TryGetValue(name, out var served) && served.Versions.TryGetValue(v, out var live) ? live.Instances : null;
                entries.Add(new IndexEntry(name, v.ToString(CultureInfo.InvariantCulture), state, why) { Instances = instances });
            }
        }

        return entries;
    }

    /// <summary>The answer to a load or unload that shutdown answered before it ran, or before it finished.</summary>
    private static RepositoryOutcome ShuttingDown(string name, string what, bool started) =>
        new(503, started
            ? $"the server is shutting down: the {what} of '{name}' did not finish within the drain deadline, and nothing of it is served"
            : $"the server is shutting down: the {what} of '{name}' was queued and not started");

    private RepositoryOutcome? Refused(string name, string what)
    {
        if (_loader is null || _stopping)
        {
            return new RepositoryOutcome(503, "the server is not ready or is shutting down");
        }

        if (_options.ModelControlMode == ModelControlMode.Poll)
        {
            return RepositoryOutcome.Conflict($"cannot {what} {ClientText.Quoted(name)}: models follow the repository directory (LowLatency:ModelControlMode is Poll)");
        }

        return ModelRepository.IsValidName(name) ? null : RepositoryOutcome.BadRequest($"{ClientText.Quoted(name)} is not a valid model name (letters, digits, '-', '_', '.'; not starting with '.')");
    }

    /// <summary>
    /// On the loader thread: builds and warms every selected version (reusing the served ones whose
    /// file and configuration are unchanged when <paramref name="reuseUnchanged"/>), then publishes.
    /// On any failure the versions being served stay untouched.
    /// </summary>
    private RepositoryOutcome LoadOnLoader(string name, ModelDefinition def, bool reuseUnchanged)
    {
        _models.TryGetValue(name, out var current);
        var built = new List<ModelVersion>();
        var versions = new SortedDictionary<long, ModelVersion>();
        var states = new Dictionary<long, (string, string)>(StatusOf(name).Versions);
        long loading = 0;
        try
        {
            foreach (var (v, file) in def.VersionFiles)
            {
                loading = v;
                string stamp = ModelDefinition.Stamp(file);
                if (reuseUnchanged && current is not null && current.Versions.TryGetValue(v, out var served)
                    && served.ConfigText == def.ConfigText && served.FileStamp == stamp)
                {
                    versions[v] = served;
                    continue;
                }

                states[v] = ("LOADING", string.Empty);
                SetStatus(name, states, StatusOf(name).LastFailure);
                _loader!.AbandonToken.ThrowIfCancellationRequested();
                var version = new ModelVersion(def.Config, v, TorchScriptModel.Load(file, def.Config), _threading!, _services) { FileStamp = stamp, ConfigText = def.ConfigText };
                built.Add(version);
                version.WarmUp(_loader.AbandonToken);
                versions[v] = version;
                _log?.Invoke(new(EngineEventKind.VersionLoaded, name, version.VersionString, $"loaded model '{name}' version {v} from {file}"));
                foreach (var group in def.Config.InstanceGroups)
                {
                    if (group.Cores.Count > 0)
                    {
                        // The same placement check as the engine-wide WorkerCores, per instance group.
                        var placed = WorkerCorePlacement.Describe(group.Cores, Environment.ProcessorCount, Native.Threading.ThreadTuning.AllowedCoreCount(), Native.Threading.ThreadTuning.MayRunOn);
                        _log?.Invoke(placed with { Model = name, Version = version.VersionString, Message = $"model '{name}' version {v} instance group {ClientText.Quoted(group.Name ?? "(unnamed)")}: {placed.Message}" });
                    }
                }
            }
        }
        catch (Exception e)
        {
            // Whatever went wrong (a corrupt file, a bad config, wrong shapes at warm-up, libtorch
            // itself), the loader thread lives on and the serving versions are untouched.
            foreach (var b in built)
            {
                b.Dispose();
            }

            if (e is OperationCanceledException && _loader!.Abandoned)
            {
                // Shutdown answered this load already: not a failure of the model.
                SetStatus(name, StatusOf(name).Versions.ToDictionary(p => p.Key, p => p.Value.Item1 == "LOADING" ? ("UNAVAILABLE", "the server shut down during the load") : p.Value), StatusOf(name).LastFailure);
                return ShuttingDown(name, "load", started: true);
            }

            // The serving versions are untouched: the index keeps them READY and says why the load failed.
            states = new Dictionary<long, (string, string)>(StatusOf(name).Versions);
            if (current is null || !current.Versions.ContainsKey(loading))
            {
                states[loading] = ("UNAVAILABLE", e.Message);
            }

            foreach (var v in states.Keys.ToList())
            {
                if (states[v].Item1 == "LOADING")
                {
                    states[v] = current is not null && current.Versions.ContainsKey(v) ? ("READY", string.Empty) : ("UNAVAILABLE", e.Message);
                }
            }

            SetStatus(name, states, $"version {loading}: {e.Message}");
            _log?.Invoke(new(EngineEventKind.LoadFailed, name, loading.ToString(CultureInfo.InvariantCulture), $"loading model '{name}' failed, {(current is null ? "nothing of it is served" : "the previous load still serves")}: version {loading}: {e.Message}", IsWarning: true));
            return RepositoryOutcome.BadRequest($"failed to load '{name}' version {loading}: {e.Message}");
        }

        List<ModelVersion>? retired = null;
        lock (_publish)
        {
            // Shutdown answered this load already (or the engine is gone): it publishes nothing.
            if (!_disposed && !_loader!.Abandoned)
            {
                _models.TryGetValue(name, out current);
                // A split set through the API outlives a reload that keeps all of its versions.
                var traffic = current is { TrafficFromApi: true } && current.Traffic.Keys.All(versions.ContainsKey) ? current.Traffic : def.Config.Traffic;
                var next = new ServedModel(def.Config, versions, traffic, current is { TrafficFromApi: true } && ReferenceEquals(traffic, current.Traffic), _services.Epoch);
                retired = PublishLocked(name, next);
            }
        }

        if (retired is null)
        {
            foreach (var b in built)
            {
                b.Dispose();
            }

            return ShuttingDown(name, "load", started: true);
        }

        states.Clear();
        foreach (var v in versions.Keys)
        {
            states[v] = ("READY", string.Empty);
        }

        foreach (var old in retired)
        {
            if (!versions.ContainsKey(old.Version))
            {
                states[old.Version] = ("UNAVAILABLE", "unloaded: no longer selected by version_policy");
            }
        }

        SetStatus(name, states, null);
        Retire(name, retired);
        return RepositoryOutcome.Ok;
    }

    private RepositoryOutcome UnloadOnLoader(string name, string reason)
    {
        List<ModelVersion> retired;
        lock (_publish)
        {
            if (!_models.ContainsKey(name))
            {
                return RepositoryOutcome.NotFound($"model '{name}' is not being served");
            }

            retired = PublishLocked(name, null);
        }

        var states = new Dictionary<long, (string, string)>();
        foreach (var v in retired)
        {
            states[v.Version] = ("UNAVAILABLE", reason);
        }

        SetStatus(name, states, null);
        Retire(name, retired);
        _log?.Invoke(new(EngineEventKind.Unloaded, name, null, $"model '{name}' {reason}"));
        return RepositoryOutcome.Ok;
    }

    /// <summary>Swaps in a table where <paramref name="name"/> is <paramref name="next"/> (null: gone); returns the versions it dropped.</summary>
    private List<ModelVersion> PublishLocked(string name, ServedModel? next)
    {
        var table = new Dictionary<string, ServedModel>(_models, StringComparer.Ordinal);
        table.TryGetValue(name, out var previous);
        if (next is null)
        {
            table.Remove(name);
        }
        else
        {
            table[name] = next;
        }

        // The one publication point: a request reads either the whole old table or the whole new one.
        _models = table.ToFrozenDictionary(StringComparer.Ordinal);
        var dropped = new List<ModelVersion>();
        if (previous is not null)
        {
            foreach (var v in previous.Versions.Values)
            {
                if (next is null || !next.Versions.Values.Contains(v))
                {
                    dropped.Add(v);
                }
            }
        }

        return dropped;
    }

    private void Retire(string name, List<ModelVersion> retired)
    {
        foreach (var v in retired)
        {
            var log = _log;
            v.Released.ContinueWith(_ => log?.Invoke(new(EngineEventKind.VersionReleased, name, v.VersionString, $"model '{name}' version {v.VersionString}: released (last request answered, native handles left {v.Handles.Live})", IsWarning: v.Handles.Live != 0)), TaskScheduler.Default);
            v.Retire();
        }
    }

    private void QueuePoll()
    {
        if (_loader is null || _stopping || _loader.Pending > 0)
        {
            return;
        }

        _ = _loader.Run(PollOnLoader, abandoned: _ => false);
    }

    /// <summary>On the loader thread: new models load, removed ones unload, changed ones reload.</summary>
    private bool PollOnLoader()
    {
        IReadOnlyList<string> names;
        try
        {
            names = ModelRepository.List(_options.ModelRepository);
        }
        catch (ModelConfigException e)
        {
            _log?.Invoke(new(EngineEventKind.PollFailed, null, null, $"poll: {e.Message}", IsWarning: true));
            return false;
        }

        foreach (var name in _models.Keys)
        {
            if (!names.Contains(name))
            {
                UnloadOnLoader(name, "unloaded: removed from the repository");
            }
        }

        foreach (var name in names)
        {
            ModelDefinition def;
            try
            {
                def = ModelRepository.Read(_options.ModelRepository, name, null, _options.CheckConfig);
            }
            catch (ModelConfigException e)
            {
                if (StatusOf(name).LastFailure != e.Message)
                {
                    Failed(name, e.Message, notFound: false);
                }

                continue;
            }

            if (Changed(name, def))
            {
                LoadOnLoader(name, def, reuseUnchanged: true);
            }
        }

        return true;
    }

    private bool Changed(string name, ModelDefinition def)
    {
        if (!_models.TryGetValue(name, out var served) || served.Versions.Count != def.VersionFiles.Count)
        {
            return true;
        }

        foreach (var (v, file) in def.VersionFiles)
        {
            if (!served.Versions.TryGetValue(v, out var version) || version.ConfigText != def.ConfigText || version.FileStamp != ModelDefinition.Stamp(file))
            {
                return true;
            }
        }

        return false;
    }

    private RepositoryOutcome Failed(string name, string reason, bool notFound)
    {
        if (notFound)
        {
            // A name the repository does not hold, which any caller of the load route can make up:
            // the 404 says so; a warning in the log or a status kept per name would let it flood both.
            return RepositoryOutcome.NotFound($"no model '{name}' in the repository");
        }

        var status = StatusOf(name);
        SetStatus(name, status.Versions, reason);
        _log?.Invoke(new(EngineEventKind.LoadFailed, name, null, $"loading model '{name}' failed: {reason}", IsWarning: true));
        return RepositoryOutcome.BadRequest($"failed to load '{name}': {reason}");
    }

    private ModelStatus StatusOf(string name) => _status.GetValueOrDefault(name, ModelStatus.None);

    private void SetStatus(string name, IReadOnlyDictionary<long, (string, string)> versions, string? failure) =>
        _status[name] = new ModelStatus(new Dictionary<long, (string, string)>(versions), failure);

    internal static string Describe(IReadOnlyDictionary<long, int> weights) =>
        weights.Count == 0 ? "all to the latest version" : string.Join(", ", weights.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}"));
}
