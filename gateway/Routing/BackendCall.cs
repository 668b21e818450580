using System.Diagnostics;

namespace LowLatency.Gateway.Routing;

/// <summary>
/// A request an alias routed to one of its backends: the face that answers it reports how it ended
/// (<see cref="Finish"/>), which is what the backend's weight follows. A default value routed nothing.
/// </summary>
public readonly struct BackendCall
{
    private readonly AliasRouter? _router;
    private readonly int _backend;
    private readonly long _started;
    private readonly bool _preferred;

    internal BackendCall(AliasRouter router, int backend, bool preferred = false)
    {
        _router = router;
        _backend = backend;
        _started = Stopwatch.GetTimestamp();
        _preferred = preferred;
    }

    /// <summary>Whether the alias's rules are still to be evaluated on the body: it has rules, and no preference chose the backend.</summary>
    public bool RulesPending => _router is not null && !_preferred && _router.Definition.Rules.Count > 0;

    /// <summary>The chosen backend's index in the alias.</summary>
    public int BackendIndex => _backend;

    /// <summary>Whether a backend was chosen (the request named an alias).</summary>
    public bool IsSet => _router is not null;

    /// <summary>Whether the chosen backend is another server's: the face forwards the body (<see cref="RemoteForward"/>) instead of decoding it.</summary>
    public bool IsRemote => _router is not null && _router.Definition.Backends[_backend].IsRemote;

    /// <summary>The alias that routed it.</summary>
    public AliasRouter Router => _router!;

    internal int Backend => _backend;

    /// <summary>When the backend was chosen (<see cref="Stopwatch"/> ticks): a remote request's deadline counts from here.</summary>
    public long StartedTimestamp => _started;

    /// <summary>The chosen backend's name, as answers and preferences name it.</summary>
    public string BackendName => _router!.Definition.Backends[_backend].Name;

    /// <summary>Counts the answer in the backend's window: <paramref name="ok"/> false for a server-side failure (5xx), not for a client's mistake.</summary>
    public void Finish(bool ok)
    {
        if (_router is not null)
        {
            long us = (long)Stopwatch.GetElapsedTime(_started).TotalMicroseconds;
            _router.Record(_backend, us, ok);
        }
    }
}
