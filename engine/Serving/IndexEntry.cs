namespace LowLatency.Engine.Serving;

/// <summary>One row of the repository index (Triton's repository extension): a model, or one version of it.</summary>
public sealed record IndexEntry(string Name, string? Version, string? State, string? Reason)
{
    /// <summary>The device workers a served version runs now (this server's addition); null when it is not served.</summary>
    public int? Instances { get; init; }
}
