using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Config;
using LowLatency.Gateway.Remote;
using LowLatency.Gateway.Weights;

namespace LowLatency.Gateway.Routing;

/// <summary>
/// One alias: picks the backend a request goes to and routes it there through the engine, and,
/// on the timer, turns the backends' measurements into the next weight table. The request path
/// reads the published table (one volatile read), takes one interlocked increment and routes; it
/// takes no lock and allocates nothing unless the request is refused.
/// </summary>
public sealed class AliasRouter : IDisposable
{
    private readonly BackendWindow[] _windows;
    private readonly RemoteBackend?[] _remotes;
    private readonly WeightTable _baseTable;
    private readonly long[] _answers;
    private readonly long[] _errors;
    private volatile WeightTable _table;
    private volatile BackendHealth[] _health;
    private long _sequence;
    private long _nextTickUs;

    public AliasRouter(AliasDefinition definition)
    {
        Definition = definition;
        int n = definition.Backends.Count;
        _windows = new BackendWindow[n];
        _health = new BackendHealth[n];
        _answers = new long[n];
        _errors = new long[n];
        _remotes = new RemoteBackend?[n];
        var weights = new double[n];
        for (int i = 0; i < n; i++)
        {
            _windows[i] = new BackendWindow(definition.Policy.WindowTicks);
            _health[i] = BackendHealth.Start(definition.Backends[i].BaseWeight);
            weights[i] = definition.Backends[i].BaseWeight;
            _remotes[i] = definition.Backends[i].IsRemote ? new RemoteBackend(definition.Backends[i]) : null;
        }

        _baseTable = new WeightTable(weights);
        _table = _baseTable;
    }

    public AliasDefinition Definition { get; }

    /// <summary>
    /// Routes a request for the alias: to the backend <paramref name="preference"/> names when it
    /// takes traffic, else to the weighted choice (by <paramref name="routingKey"/>'s hash when not
    /// empty, so that a key keeps its backend while weights are unchanged). A backend the engine
    /// cannot route to (not served, no healthy version) counts as an error and the next backend that
    /// takes traffic is tried; when none can answer, Unavailable. When every backend is ejected, the
    /// base weights apply (Envoy's panic routing): refusing all traffic would be worse than trying.
    /// A remote backend is chosen without a call (the face forwards the body once read: <see cref="RemoteForward"/>);
    /// a remote backend <paramref name="face"/> cannot reach (<see cref="Reaches"/>) is passed over.
    /// </summary>
    public InferenceStatus Route(InferenceEngine engine, string? preference, ReadOnlySpan<char> routingKey, out Routed routed, out BackendCall call, out string? error, RemoteFace face = RemoteFace.Http)
    {
        var table = _table;
        if (table.Total == 0)
        {
            table = _baseTable;
        }

        int first = Preferred(table, preference);
        bool preferred = first >= 0;
        if (first < 0)
        {
            ulong point = routingKey.IsEmpty ? (ulong)Interlocked.Increment(ref _sequence) : Hash(routingKey);
            first = table.Pick(point);
        }

        var backends = Definition.Backends;
        var status = InferenceStatus.Unavailable;
        error = null;
        for (int k = 0; k < backends.Count; k++)
        {
            int i = (first + k) % backends.Count;
            if (k > 0 && !table.Takes(i))
            {
                continue;
            }

            var backend = backends[i];
            if (backend.IsRemote)
            {
                if (!Reaches(face, i))
                {
                    continue;
                }

                routed = default;
                call = new BackendCall(this, i, preferred && k == 0);
                return InferenceStatus.Ok;
            }

            status = engine.Route(backend.Model, backend.VersionText, routingKey, out routed, out error);
            if (status == InferenceStatus.Ok)
            {
                call = new BackendCall(this, i, preferred && k == 0);
                return status;
            }

            // Not served, or no healthy version: the backend is out for this request.
            _windows[i].Record(0, ok: false);
            Interlocked.Increment(ref _answers[i]);
            Interlocked.Increment(ref _errors[i]);
        }

        routed = default;
        call = default;
        error = Out(error);
        return InferenceStatus.Unavailable;
    }

    /// <summary>
    /// After remote backend <paramref name="failed"/> failed: the next backend, not in <paramref name="tried"/>
    /// (a bit per backend), that takes traffic (with <paramref name="retry"/>: remote ones too), else any
    /// local one whatever its weight (its model's own fallback or fixed answer applies through the
    /// engine's route). A remote choice comes back without a call made, as <see cref="Route"/>'s does.
    /// </summary>
    internal InferenceStatus RouteAfter(InferenceEngine engine, int failed, ref ulong tried, bool retry, ReadOnlySpan<char> routingKey, RemoteFace face, out Routed routed, out BackendCall call, out string? error)
    {
        var table = _table;
        var backends = Definition.Backends;
        error = null;
        for (int pass = 0; pass < 2; pass++)
        {
            for (int k = 1; k <= backends.Count; k++)
            {
                int i = (failed + k) % backends.Count;
                var backend = backends[i];
                if ((tried & (1UL << i)) != 0 || (pass == 0 && !table.Takes(i)) || (backend.IsRemote && (pass == 1 || !retry || !Reaches(face, i))))
                {
                    continue;
                }

                tried |= 1UL << i;
                if (backend.IsRemote)
                {
                    routed = default;
                    call = new BackendCall(this, i);
                    return InferenceStatus.Ok;
                }

                var status = engine.Route(backend.Model, backend.VersionText, routingKey, out routed, out error);
                if (status == InferenceStatus.Ok)
                {
                    call = new BackendCall(this, i);
                    return status;
                }

                Record(i, 0, ok: false);
            }
        }

        routed = default;
        call = default;
        error = Out(error);
        return InferenceStatus.Unavailable;
    }

    /// <summary>
    /// The backend the first matching rule sends to (<paramref name="matched"/>: a bit per rule, set by
    /// the face's scan of the body), when that backend takes traffic now; -1: no rule decides, the
    /// weighted choice stands. A rule whose backend is ejected, or is remote where <paramref name="face"/>
    /// cannot forward, is passed over for the next.
    /// </summary>
    public int RuleTarget(ulong matched, RemoteFace face = RemoteFace.Http)
    {
        var rules = Definition.Rules;
        var table = _table;
        for (int i = 0; matched != 0 && i < rules.Count; i++)
        {
            if ((matched & (1UL << i)) != 0)
            {
                matched &= ~(1UL << i);
                if (table.Takes(rules[i].Backend) && Reaches(face, rules[i].Backend))
                {
                    return rules[i].Backend;
                }
            }
        }

        return -1;
    }

    /// <summary>
    /// Routes to backend <paramref name="backend"/>, which a rule chose: a remote one without a call
    /// made; a local one through the engine, and if the engine cannot route to it, counted as its error
    /// and refused (the caller keeps its earlier choice).
    /// </summary>
    public InferenceStatus RouteTo(InferenceEngine engine, int backend, ReadOnlySpan<char> routingKey, out Routed routed, out BackendCall call, out string? error)
    {
        var b = Definition.Backends[backend];
        if (b.IsRemote)
        {
            (routed, call, error) = (default, new BackendCall(this, backend, preferred: true), null);
            return InferenceStatus.Ok;
        }

        var status = engine.Route(b.Model, b.VersionText, routingKey, out routed, out error);
        if (status == InferenceStatus.Ok)
        {
            call = new BackendCall(this, backend, preferred: true);
            return status;
        }

        Record(backend, 0, ok: false);
        call = default;
        return status;
    }

    /// <summary>The connection pool of remote backend <paramref name="backend"/>.</summary>
    internal RemoteBackend RemoteOf(int backend) => _remotes[backend]!;

    /// <summary>
    /// Where a hedge of an attempt on <paramref name="running"/> goes: the next remote backend after it
    /// that takes traffic, is idempotent, can be reached through <paramref name="face"/> and was not
    /// tried; false when there is none (the attempt then runs alone, as without a hedge).
    /// </summary>
    internal bool HedgeTarget(int running, ulong tried, RemoteFace face, out BackendCall call)
    {
        var table = _table;
        var backends = Definition.Backends;
        for (int k = 1; k < backends.Count; k++)
        {
            int i = (running + k) % backends.Count;
            if ((tried & (1UL << i)) == 0 && table.Takes(i) && backends[i].Remote is { Idempotent: true } && Reaches(face, i))
            {
                call = new BackendCall(this, i);
                return true;
            }
        }

        call = default;
        return false;
    }

    /// <summary>Whether a request that came through <paramref name="face"/> can be sent to <paramref name="backend"/> (a local one: always).</summary>
    private bool Reaches(RemoteFace face, int backend) =>
        _remotes[backend] is not { } remote || face == RemoteFace.Http || (face == RemoteFace.Grpc && remote.ServesGrpc);

    /// <summary>Closes the remote backends' connections (a reload replaced the alias and its requests have ended).</summary>
    public void Dispose()
    {
        foreach (var r in _remotes)
        {
            r?.Dispose();
        }
    }

    /// <summary>An answer of backend <paramref name="backend"/> (request path).</summary>
    internal void Record(int backend, long latencyUs, bool ok)
    {
        _windows[backend].Record(latencyUs, ok);
        Interlocked.Increment(ref _answers[backend]);
        if (!ok)
        {
            Interlocked.Increment(ref _errors[backend]);
        }
    }

    /// <summary>
    /// Recomputes the weights when the alias's tick is due (timer only, never concurrently with
    /// itself): each backend's next state from its window (<see cref="WeightFormula"/>), then one
    /// table published by one reference swap when any weight moved. Returns whether it ticked.
    /// </summary>
    public bool Tick(long nowUs)
    {
        if (nowUs < _nextTickUs)
        {
            return false;
        }

        _nextTickUs = nowUs + (long)(Definition.Policy.TickMilliseconds * 1000);
        var prev = _health;
        double fastest = 0;
        foreach (var h in prev)
        {
            if (h.State is BackendState.Closed or BackendState.Recovering && h.LatencyUs > 0 && (fastest == 0 || h.LatencyUs < fastest))
            {
                fastest = h.LatencyUs;
            }
        }

        var next = new BackendHealth[prev.Length];
        var weights = new double[prev.Length];
        bool moved = false;
        for (int i = 0; i < prev.Length; i++)
        {
            var totals = _windows[i].Tick();
            next[i] = WeightFormula.Next(Definition.Policy, Definition.Backends[i].BaseWeight, prev[i], totals, fastest, nowUs, out bool clear);
            if (clear)
            {
                _windows[i].Clear();
            }

            weights[i] = next[i].Weight;
            moved |= Math.Abs(weights[i] - _table.Weights[i]) > 1e-9;
        }

        _health = next;
        if (moved)
        {
            _table = new WeightTable(weights);
        }

        return true;
    }

    /// <summary>The weight table as it stands (admin route, metrics).</summary>
    public IReadOnlyList<BackendRow> Rows()
    {
        var health = _health;
        var table = _table;
        double total = 0;
        foreach (var w in table.Weights)
        {
            total += w;
        }

        var rows = new BackendRow[health.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            var b = Definition.Backends[i];
            var h = health[i];
            rows[i] = new BackendRow(b.Name, b.Model, b.Version, h.State, b.BaseWeight, table.Weights[i], total > 0 ? table.Weights[i] / total : 0,
                h.LatencyUs, h.ErrorRate, Interlocked.Read(ref _answers[i]), Interlocked.Read(ref _errors[i]), b.Remote?.Url);
        }

        return rows;
    }

    /// <summary>The backend a preference names, if it takes traffic now; -1 otherwise (an unknown or ejected backend is no preference).</summary>
    private int Preferred(WeightTable table, string? preference)
    {
        if (preference is null)
        {
            return -1;
        }

        var backends = Definition.Backends;
        for (int i = 0; i < backends.Count; i++)
        {
            if (string.Equals(backends[i].Name, preference, StringComparison.Ordinal))
            {
                return table.Takes(i) ? i : -1;
            }
        }

        return -1;
    }

    /// <summary>FNV-1a over the key's characters: stable across processes, so a key lands alike on every replica.</summary>
    private static ulong Hash(ReadOnlySpan<char> key)
    {
        ulong h = 14695981039346656037;
        foreach (char c in key)
        {
            h = (h ^ c) * 1099511628211;
        }

        return h;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private string Out(string? last) =>
        $"no backend of alias {ClientText.Quoted(Definition.Name)} can answer now (the last tried: {last ?? "none takes traffic"}); retry later";
}
