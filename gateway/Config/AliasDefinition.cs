namespace LowLatency.Gateway.Config;

/// <summary>A routed name: the backends that may answer it, and how their weights move.</summary>
public sealed record AliasDefinition(string Name, IReadOnlyList<BackendDefinition> Backends, WeightPolicy Policy);
