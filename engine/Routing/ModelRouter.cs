using LowLatency.Engine.Serving;

namespace LowLatency.Engine.Routing;

/// <summary>
/// Splits one model's unversioned requests among its versions: by the traffic weights, minus
/// ejected versions (their share goes to the healthy ones), plus a small probing share for
/// half-open ones; when no version is healthy, to the fallback. The split is rebuilt only when a
/// breaker changes state (the engine's routing epoch moves); routing itself takes no lock.
/// </summary>
public sealed class ModelRouter
{
    private readonly ModelVersion[] _versions;
    private readonly long[] _weights;
    private readonly RoutingEpoch _epoch;
    private readonly Lock _rebuild = new();
    private volatile TrafficSplit _split;

    /// <param name="weights">Version → weight; empty: the latest version takes everything.</param>
    internal ModelRouter(IReadOnlyDictionary<long, ModelVersion> versions, IReadOnlyDictionary<long, int> weights, RoutingEpoch epoch)
    {
        _epoch = epoch;
        var list = new List<ModelVersion>();
        var w = new List<long>();
        if (weights.Count == 0)
        {
            list.Add(versions[versions.Keys.Max()]);
            w.Add(1);
        }
        else
        {
            foreach (var (v, weight) in weights.OrderBy(p => p.Key))
            {
                list.Add(versions[v]);
                w.Add(weight);
            }
        }

        _versions = [.. list];
        _weights = [.. w];
        _split = Build();
    }

    /// <summary>The versions taking part in the split, with their configured weights.</summary>
    public IReadOnlyList<(ModelVersion Version, long Weight)> Participants => _versions.Select((v, i) => (v, _weights[i])).ToList();

    /// <summary>
    /// The version for a request that names none (null: no version is healthy and the fallback
    /// applies). <paramref name="keyHash"/> is the routing key's hash when <paramref name="hasKey"/>.
    /// </summary>
    public ModelVersion? Pick(bool hasKey, ulong keyHash)
    {
        var split = _split;
        if (split.Epoch != _epoch.Value || split.AnyOpen)
        {
            split = Refresh(split);
        }

        int c = hasKey ? split.ForKey(keyHash) : split.Next();
        return c == TrafficSplit.Fallback ? null : _versions[c];
    }

    private TrafficSplit Refresh(TrafficSplit split)
    {
        if (split.AnyOpen)
        {
            // An ejected version gets no answers to move it on: its cool-down is checked here.
            foreach (var v in _versions)
            {
                v.Health.Tick();
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
            var health = _versions[i].Health;
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
                ids.Add(_versions[i].Version);
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
