namespace LowLatency.Features.Definitions;

/// <summary>
/// Feast's feature view: features of one entity that are written and read together. In the online
/// store a view's values for one entity are one row, packed little-endian in the features' declared
/// order; <see cref="Ttl"/> is the max age of a row, counted from its event time (zero: no limit).
/// </summary>
public sealed class FeatureView
{
    private readonly Dictionary<string, FeatureDefinition> _byName;

    public FeatureView(IReadOnlyList<FeatureDefinition> features)
    {
        Features = features;
        _byName = new Dictionary<string, FeatureDefinition>(StringComparer.Ordinal);
        int bytes = 0;
        foreach (var f in features)
        {
            _byName.Add(f.Name, f);
            bytes += f.ByteSize;
        }

        RowBytes = bytes;
        var defaults = new byte[bytes];
        foreach (var f in features)
        {
            f.Default.Span.CopyTo(defaults.AsSpan(f.Offset));
        }

        DefaultRow = defaults;
    }

    public required string Name { get; init; }

    public required EntityDefinition Entity { get; init; }

    public IReadOnlyList<FeatureDefinition> Features { get; }

    /// <summary>Bytes of one packed row: the features' values, no header.</summary>
    public int RowBytes { get; }

    /// <summary>Every feature's default, packed as a row.</summary>
    public ReadOnlyMemory<byte> DefaultRow { get; }

    /// <summary>A row's max age from its event time; <see cref="TimeSpan.Zero"/> for none.</summary>
    public required TimeSpan Ttl { get; init; }

    /// <summary>The name of the online store that holds the view's rows.</summary>
    public required string OnlineStore { get; init; }

    /// <summary>The push source that writes the view; null when nothing pushes to it.</summary>
    public PushSource? Source { get; init; }

    /// <summary>For a stream view: the stream, window and lateness that compute its rows; null otherwise.</summary>
    public StreamDefinition? Stream { get; init; }

    /// <summary>
    /// A hash of the row's layout (feature names, types and shapes, in order), stored in each row's
    /// header: a row written under another layout is never read as this one.
    /// </summary>
    public required uint Fingerprint { get; init; }

    /// <summary>The view's position in its repository, for per-view arrays.</summary>
    public required int Index { get; init; }

    public string Description { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public string File { get; init; } = string.Empty;

    public FeatureDefinition? Feature(string name) => _byName.GetValueOrDefault(name);

    public override string ToString() => Name;
}
