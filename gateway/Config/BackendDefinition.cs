namespace LowLatency.Gateway.Config;

/// <summary>
/// One backend of an alias: a model this server serves (a version of it, or its own traffic split
/// when <see cref="Version"/> is null), or, with <see cref="Remote"/>, that model on another
/// inference server; named <see cref="Name"/> in answers, preferences and the weight table, with the
/// weight it has when healthy.
/// </summary>
public sealed record BackendDefinition(string Name, string Model, long? Version, int BaseWeight, RemoteEndpoint? Remote = null)
{
    /// <summary>The version as the engine's route takes it: null for the model's own split.</summary>
    public string? VersionText { get; } = Version?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether the backend is another server's (<see cref="Remote"/> set).</summary>
    public bool IsRemote => Remote is not null;
}
