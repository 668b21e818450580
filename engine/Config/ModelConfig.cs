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

/// <summary>An input or output: <c>dims</c> exclude the batch dimension; -1 marks a variable dimension.</summary>
public sealed record TensorConfig(string Name, TensorDataType DataType, long[] Dims)
{
    public byte[] NameUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(Name);

    public bool HasVariableDims => Array.IndexOf(Dims, -1L) >= 0;
}

public enum TimeoutAction
{
    Reject,
    Delay,
}

public sealed record QueuePolicyConfig(TimeoutAction TimeoutAction, long DefaultTimeoutMicroseconds, bool AllowTimeoutOverride, int MaxQueueSize)
{
    public static readonly QueuePolicyConfig Default = new(TimeoutAction.Reject, 0, false, 0);
}

public sealed record DynamicBatchingConfig(
    IReadOnlyList<int> PreferredBatchSize,
    long MaxQueueDelayMicroseconds,
    bool PreserveOrdering,
    int PriorityLevels,
    int DefaultPriorityLevel,
    QueuePolicyConfig DefaultQueuePolicy,
    IReadOnlyDictionary<int, QueuePolicyConfig> PriorityQueuePolicy);

/// <summary>An instance group's device. KIND_GPU is refused when the configuration is read: the CPU is the only device served.</summary>
public enum InstanceKind
{
    /// <summary>The CPU, as Triton's KIND_AUTO on a host without GPUs.</summary>
    Auto,
    Cpu,
}

public sealed record InstanceGroupConfig(string? Name, int Count, InstanceKind Kind);

public enum VersionPolicyKind
{
    Latest,
    All,
    Specific,
}

/// <summary>Which versions of a model are served; Triton's default is the latest one.</summary>
public sealed record VersionPolicy(VersionPolicyKind Kind, int NumVersions, IReadOnlyList<long> Versions)
{
    public static readonly VersionPolicy LatestOne = new(VersionPolicyKind.Latest, 1, []);

    /// <summary>The versions to serve out of those present in the repository, ascending.</summary>
    public IReadOnlyList<long> Select(IEnumerable<long> available)
    {
        var sorted = available.Order().ToList();
        return Kind switch
        {
            VersionPolicyKind.All => sorted,
            VersionPolicyKind.Specific => sorted.Where(Versions.Contains).ToList(),
            _ => sorted.Skip(Math.Max(0, sorted.Count - NumVersions)).ToList(),
        };
    }
}
