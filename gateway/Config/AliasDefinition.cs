namespace LowLatency.Gateway.Config;

/// <summary>
/// A routed name: the backends that may answer it, how their weights move, and what a request to a
/// remote backend may spend: <see cref="DeadlineMilliseconds"/> from its arrival over all attempts,
/// and at most <see cref="Retries"/> further attempts on other backends after a remote one failed.
/// </summary>
public sealed record AliasDefinition(string Name, IReadOnlyList<BackendDefinition> Backends, WeightPolicy Policy, double DeadlineMilliseconds = AliasDefinition.DefaultDeadlineMilliseconds, int Retries = 1)
{
    public const double DefaultDeadlineMilliseconds = 2000;
}
