namespace LowLatency.Features.Definitions;

/// <summary>
/// Feast's entity: what features are about (a user, an item), identified by one join key, the name
/// of the column that carries its id in reads and pushes.
/// </summary>
public sealed class EntityDefinition
{
    public required string Name { get; init; }

    public required string JoinKey { get; init; }

    public required EntityValueType ValueType { get; init; }

    public string Description { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The definition file it came from.</summary>
    public string File { get; init; } = string.Empty;
}
