namespace LowLatency.Engine.Config;

/// <summary>
/// This server's <c>features</c> extension of <c>config.json</c>: the model's inputs the server fills
/// per row from the feature store, and the request inputs that carry the rows' entity ids. The
/// engine checks its form; whether the features exist, and fit the inputs, is checked against the
/// feature repository when the model is read (<see cref="Serving.EngineOptions.CheckConfig"/>).
/// </summary>
public sealed record FeatureJoinConfig(
    IReadOnlyList<EntityInputConfig> Entities,
    IReadOnlyList<JoinedInputConfig> Inputs,
    IReadOnlyList<string> Required);

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

/// <summary>Model input <paramref name="Input"/>, filled per row with <paramref name="Features"/> (<c>view:feature</c>) in order.</summary>
public sealed record JoinedInputConfig(int Input, IReadOnlyList<string> Features);
