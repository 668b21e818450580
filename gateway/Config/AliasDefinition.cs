namespace LowLatency.Gateway.Config;

/// <summary>
/// A routed name: the backends that may answer it, how their weights move, and what a request to a
/// remote backend may spend: <see cref="DeadlineMilliseconds"/> from its arrival over all attempts,
/// and at most <see cref="Retries"/> further attempts on other backends after a remote one failed.
/// </summary>
/// <see cref="Rules"/>: in order, evaluated on the request's body after the preference and before the weighted choice.
public sealed record AliasDefinition(string Name, IReadOnlyList<BackendDefinition> Backends, WeightPolicy Policy, double DeadlineMilliseconds = AliasDefinition.DefaultDeadlineMilliseconds, int Retries = 1, IReadOnlyList<RouteRule>? RuleList = null)
{
    public IReadOnlyList<RouteRule> Rules { get; } = RuleList ?? [];

    /// <summary>
    /// When set: a remote attempt on an idempotent backend that has not answered after this long is
    /// hedged, the same request sent to another remote backend while the first still runs; the first
    /// answer that is not a failure wins and the other attempt is cancelled. Null: attempts follow
    /// one another, a retry only after a failure.
    /// </summary>
    public double? HedgeAfterMilliseconds { get; init; }

    public const double DefaultDeadlineMilliseconds = 2000;
}
