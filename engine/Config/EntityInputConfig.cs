namespace LowLatency.Engine.Config;

/// <summary>
/// A request input of one id per row (shape [rows, 1]) naming an entity of the feature repository:
/// INT64 for an INT64 entity, BYTES (UTF-8, at most <see cref="MaxIdBytes"/>) for a STRING one.
/// </summary>
public sealed record EntityInputConfig(TensorConfig Tensor, string Entity)
{
    /// <summary>A STRING id's most UTF-8 bytes when <c>max_id_bytes</c> is not given: a UUID is 36.</summary>
    public const int DefaultMaxIdBytes = 64;

    /// <summary>The largest <c>max_id_bytes</c>: the longest id the online store keys (RedisKeyLayout.MaxStringIdBytes).</summary>
    public const int MaxIdBytesLimit = 1024;

    /// <summary><c>max_id_bytes</c> as configured; null when not given.</summary>
    public int? MaxIdBytes { get; init; }

    /// <summary>This entity input, taking STRING ids: a BYTES tensor of up to <c>max_id_bytes</c> per id.</summary>
    public EntityInputConfig WithStringIds() => this with
    {
        Tensor = new TensorConfig(Tensor.Name, TensorDataType.Bytes, [1]) { MaxElementBytes = MaxIdBytes ?? DefaultMaxIdBytes },
    };
}
