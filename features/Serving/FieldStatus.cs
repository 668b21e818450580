namespace LowLatency.Features.Serving;

/// <summary>Feast's <c>FieldStatus</c>, with its numbers: what a value in an online-features answer is.</summary>
public enum FieldStatus : byte
{
    Invalid = 0,

    /// <summary>The value is the store's and within its view's max age.</summary>
    Present = 1,

    /// <summary>Feast's status for a null value; rows here are packed numbers, so it is never given.</summary>
    NullValue = 2,

    /// <summary>The store holds no row for the entity: the value is null.</summary>
    NotFound = 3,

    /// <summary>The store's value, older than its view's max age (TTL).</summary>
    OutsideMaxAge = 4,
}
