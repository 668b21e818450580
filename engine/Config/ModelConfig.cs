namespace LowLatency.Engine.Config;

/// <summary>
/// A model's configuration: the subset of Triton's <c>ModelConfig</c> this server implements, with
/// Triton's field names and semantics. Read by <see cref="ModelConfigReader"/>; immutable.
/// </summary>
public sealed record ModelConfig(
    string Name,
    string Platform,
    int MaxBatchSize,
    IReadOnlyList<TensorConfig> Inputs,
    IReadOnlyList<TensorConfig> Outputs,
    DynamicBatchingConfig? DynamicBatching,
    IReadOnlyList<InstanceGroupConfig> InstanceGroups,
    VersionPolicy VersionPolicy,
    IReadOnlyDictionary<string, string> Parameters,
    string DefaultModelFilename)
{
    /// <summary>
    /// The largest size a variable (-1) dimension of a request may have, from the model parameter
    /// <c>max_variable_dim</c>; null when unbounded (the body-size limit still applies).
    /// </summary>
    public long? MaxVariableDim { get; init; }

    /// <summary>The QoS classes' windows and deadlines (this server's <c>qos</c> extension field).</summary>
    public QosSettings Qos { get; init; } = QosSettings.Default;

    /// <summary>The traffic split among versions by weight (<c>traffic</c>); empty: every request to the latest.</summary>
    public IReadOnlyDictionary<long, int> Traffic { get; init; } = new Dictionary<long, int>();

    /// <summary>When versions are ejected from routing and readmitted (<c>health</c>).</summary>
    public HealthPolicy Health { get; init; } = HealthPolicy.Default;

    /// <summary>What requests get when no version is healthy (<c>fallback</c>); null: 503 at once.</summary>
    public FallbackConfig? Fallback { get; init; }

    /// <summary>
    /// The document it was read from (config.json, or a load request's override), as compact JSON
    /// without comments: what <c>GET /v2/models/{name}/config</c> serves.
    /// </summary>
    public string Document { get; init; } = "{}";

    public bool Batched => MaxBatchSize > 0;

    public int InputIndex(string name)
    {
        for (int i = 0; i < Inputs.Count; i++)
        {
            if (Inputs[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    public int InputIndex(ReadOnlySpan<byte> utf8Name) => IndexOf(Inputs, utf8Name);

    public int OutputIndex(ReadOnlySpan<byte> utf8Name) => IndexOf(Outputs, utf8Name);

    private static int IndexOf(IReadOnlyList<TensorConfig> list, ReadOnlySpan<byte> utf8Name)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (utf8Name.SequenceEqual(list[i].NameUtf8))
            {
                return i;
            }
        }

        return -1;
    }

    public int OutputIndex(string name)
    {
        for (int i = 0; i < Outputs.Count; i++)
        {
            if (Outputs[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }
}
