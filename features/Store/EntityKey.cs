using System.Globalization;

namespace LowLatency.Features.Store;

/// <summary>
/// An entity's id, as its join key carries it: an INT64 or a STRING. A struct compared by value, so
/// looking one up in the near cache allocates nothing.
/// </summary>
public readonly struct EntityKey : IEquatable<EntityKey>
{
    private readonly string? _string;
    private readonly long _int64;

    private EntityKey(long value, string? text)
    {
        _int64 = value;
        _string = text;
    }

    public static EntityKey Of(long value) => new(value, null);

    public static EntityKey Of(string value) => new(0, value ?? throw new ArgumentNullException(nameof(value)));

    public bool IsString => _string is not null;

    public long Int64 => _int64;

    /// <summary>The STRING id; null for an INT64 one.</summary>
    public string? String => _string;

    public bool Equals(EntityKey other) => _int64 == other._int64 && string.Equals(_string, other._string, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is EntityKey other && Equals(other);

    public override int GetHashCode() => _string is null ? _int64.GetHashCode() : string.GetHashCode(_string, StringComparison.Ordinal);

    public override string ToString() => _string ?? _int64.ToString(CultureInfo.InvariantCulture);

    public static bool operator ==(EntityKey left, EntityKey right) => left.Equals(right);

    public static bool operator !=(EntityKey left, EntityKey right) => !left.Equals(right);
}
