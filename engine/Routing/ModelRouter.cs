namespace LowLatency.Engine.Routing;

/// <summary>
/// Splits one model's unversioned requests among its versions: by the traffic weights, minus
/// ejected versions (their share goes to the healthy ones), plus a small probing share for
/// half-open ones; when no version is healthy, to the fallback. The split is rebuilt only when a
/// breaker changes state (the engine's routing epoch moves); routing itself takes no lock.
/// </summary>
internal sealed class ModelRouter
{
    /// <summary>What <see cref="Pick"/> returns when no version is healthy and the fallback applies.</summary>
    public const int Fallback = TrafficSplit.Fallback;

    private readonly VersionHealth[] _health;
    private readonly long[] _versions;
    private readonly long[] _weights;
    private readonly RoutingEpoch _epoch;
    private readonly Lock _rebuild = new();
    private volatile TrafficSplit _split;

    /// <param name="participants">The versions taking part, each with its circuit breaker and configured weight: <see cref="Pick"/> returns an index into this list.</param>
    internal ModelRouter(IReadOnlyList<(long Version, VersionHealth Health, long Weight)> participants, RoutingEpoch epoch)
    {
        _epoch = epoch;
        _health = new VersionHealth[participants.Count];
        _versions = new long[participants.Count];
        _weights = new long[participants.Count];
        for (int i = 0; i < participants.Count; i++)
        {
            (_versions[i], _health[i], _weights[i]) = participants[i];
        }

        _split = Build();
    }

    /// <summary>
    /// The participant for a request that names no version (<see cref="Fallback"/>: no version is
    /// healthy and the fallback applies). <paramref name="keyHash"/> is the routing key's hash when
    /// <paramref name="hasKey"/>.
    /// </summary>
    public int Pick(bool hasKey, ulong keyHash)
    {
        var split = _split;
        if (split.Epoch != _epoch.Value || split.AnyOpen)
        {
            split = Refresh(split);
        }

        return hasKey ? split.ForKey(keyHash) : split.Next();
    }

    private TrafficSplit Refresh(TrafficSplit split)
    {
        if (split.AnyOpen)
        {
            // An ejected version gets no answers to move it on: its cool-down is checked here.
            foreach (var health in _health)
            {
                health.Tick();
            }
        }

        if (split.Epoch == _epoch.Value)
        {
            return split;
        }

        lock (_rebuild)
        {
            if (_split.Epoch != _epoch.Value)
            {
                _split = Build();
            }

            return _split;
        }
    }

    private TrafficSplit Build()
    {
        int epoch = _epoch.Value;
        var candidates = new List<int>();
        var ids = new List<long>();
        var weights = new List<long>();
        long configured = 0, effective = 0;
        bool anyClosed = false, anyOpen = false;
        for (int i = 0; i < _versions.Length; i++)
        {
            var health = _health[i];
            long w = _weights[i] * 100;
            long e = !health.Policy.Enabled ? w : health.State switch
            {
                BreakerState.Closed => w,
                BreakerState.HalfOpen => _weights[i] * health.Policy.ProbePercent,
                _ => 0,
            };
            anyClosed |= e == w && w > 0;
            anyOpen |= health.Policy.Enabled && health.State == BreakerState.Open;
            configured += w;
            effective += e;
            if (e > 0)
            {
                candidates.Add(i);
                ids.Add(_versions[i]);
                weights.Add(e);
            }
        }

        // With a healthy version left, the ejected share goes to the healthy ones (the weights are
        // renormalised). With none, what probes do not take goes to the fallback; without a
        // fallback, the remainder is refused at once (the caller answers 503), never queued.
        if (!anyClosed && configured > effective)
        {
            candidates.Add(TrafficSplit.Fallback);
            ids.Add(0);
            weights.Add(configured - effective);
        }

        return new TrafficSplit(epoch, [.. candidates], [.. ids], [.. weights], anyOpen);
    }
}
