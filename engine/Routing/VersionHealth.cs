using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Time;

namespace LowLatency.Engine.Routing;

/// <summary>
/// One version's circuit breaker. Answers are recorded as they are published; the thresholds are
/// judged at most every <see cref="EvaluateEveryMicroseconds"/> by whichever thread passes that time
/// first (a CAS), so recording stays a handful of interlocked adds. Transitions are rare and go
/// through a lock; each bumps the engine's routing epoch so routers rebuild their split.
/// </summary>
public sealed class VersionHealth
{
    internal const long EvaluateEveryMicroseconds = 100_000;

    private readonly HealthPolicy _policy;
    private readonly IClock _clock;
    private readonly RoutingEpoch _epoch;
    private readonly LatencyWindow _window;
    private readonly LatencyWindow _probes;
    private readonly Action<VersionHealth, BreakerState>? _onTransition;
    private readonly Lock _transition = new();
    private long _nextEvaluationUs;
    private long _reopenAtUs;
    private long _probeAnswers;
    private volatile BreakerState _state;

    internal VersionHealth(HealthPolicy policy, IClock clock, RoutingEpoch epoch, Action<VersionHealth, BreakerState>? onTransition)
    {
        _policy = policy;
        _clock = clock;
        _epoch = epoch;
        _onTransition = onTransition;
        _window = new LatencyWindow(policy.WindowSeconds);
        _probes = new LatencyWindow(policy.WindowSeconds + policy.CooldownSeconds + 1);
    }

    public BreakerState State => _state;

    public HealthPolicy Policy => _policy;

    /// <summary>The last judgement's reason, for the index and the logs.</summary>
    public string? Reason { get; private set; }

    /// <summary>
    /// Failures that say something about the version: the model failing on input it accepted. Not
    /// the client's fault (400), and not load shedding: a deadline missed in the queue (504) or a
    /// refusal (429) says the server is busy, and ejecting a version for it would only move the load
    /// (past capacity every version was ejected and the model answered 503:
    /// docs/performance.md#circuit-breaker). A version that got slow is caught by its p99
    /// (max_p99_latency_us) instead.

    /// </summary>
    internal static bool IsFailure(InferenceStatus status) => status is InferenceStatus.ModelError;

    /// <summary>Counts what the version's health depends on: answers and model failures.</summary>
    internal static bool Counts(InferenceStatus status) => status is InferenceStatus.Ok or InferenceStatus.ModelError;

    /// <summary>Records one answer (any thread).</summary>
    public void Record(InferenceStatus status, long latencyUs)
    {
        if (!_policy.Enabled || !Counts(status))
        {
            return;
        }

        long now = _clock.NowMicroseconds;
        bool failed = IsFailure(status);
        if (_state == BreakerState.HalfOpen)
        {
            _probes.Record(now, failed, latencyUs);
            if (Interlocked.Increment(ref _probeAnswers) == _policy.ProbeRequests)
            {
                // Judge the probes as soon as there are enough: readmission should not wait for traffic.
                Evaluate(now);
                return;
            }
        }
        else
        {
            _window.Record(now, failed, latencyUs);
        }

        long next = Volatile.Read(ref _nextEvaluationUs);
        if (now >= next && Interlocked.CompareExchange(ref _nextEvaluationUs, now + EvaluateEveryMicroseconds, next) == next)
        {
            Evaluate(now);
        }
    }

    /// <summary>
    /// Moves an open circuit to half-open once its cool-down has passed. Routers call it when they
    /// route (an ejected version gets no answers to trigger it).
    /// </summary>
    public void Tick()
    {
        if (_state == BreakerState.Open && _clock.NowMicroseconds >= Volatile.Read(ref _reopenAtUs))
        {
            Evaluate(_clock.NowMicroseconds);
        }
    }

    /// <summary>Judges the thresholds now (tests call it to skip the evaluation interval).</summary>
    public void Evaluate() => Evaluate(_clock.NowMicroseconds);

    private void Evaluate(long now)
    {
        lock (_transition)
        {
            switch (_state)
            {
                case BreakerState.Closed:
                    {
                        var (ok, failed, p99) = _window.Summary(now);
                        if (Unhealthy(ok, failed, p99, _policy.MinRequests) is { } reason)
                        {
                            Open(now, reason);
                        }

                        break;
                    }

                case BreakerState.Open when now >= _reopenAtUs:
                    _probes.Reset();
                    Interlocked.Exchange(ref _probeAnswers, 0);
                    Move(BreakerState.HalfOpen, "cool-down over: probing with a small share of traffic");
                    break;
                case BreakerState.HalfOpen when Volatile.Read(ref _probeAnswers) >= _policy.ProbeRequests:
                    {
                        var (ok, failed, p99) = _probes.Summary(now);
                        if (Unhealthy(ok, failed, p99, 1) is { } reason)
                        {
                            Open(now, "probe failed: " + reason);
                        }
                        else
                        {
                            _window.Reset();
                            Move(BreakerState.Closed, $"readmitted: {ok} of {ok + failed} probes healthy");
                        }

                        break;
                    }
            }
        }
    }

    private string? Unhealthy(long ok, long failed, long p99, int minimum)
    {
        long total = ok + failed;
        if (total < minimum || total == 0)
        {
            return null;
        }

        double rate = (double)failed / total;
        if (rate > _policy.MaxErrorRate)
        {
            return $"{failed} of {total} requests failed ({rate:P0} > {_policy.MaxErrorRate:P0})";
        }

        if (_policy.MaxP99LatencyMicroseconds > 0 && p99 > _policy.MaxP99LatencyMicroseconds)
        {
            return $"p99 {p99} us over {total} requests exceeds {_policy.MaxP99LatencyMicroseconds} us";
        }

        return null;
    }

    private void Open(long now, string reason)
    {
        Volatile.Write(ref _reopenAtUs, now + (_policy.CooldownSeconds * 1_000_000L));
        Move(BreakerState.Open, reason);
    }

    private void Move(BreakerState to, string reason)
    {
        Reason = reason;
        _state = to;
        _epoch.Bump();
        _onTransition?.Invoke(this, to);
    }
}
