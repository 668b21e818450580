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

    /// <summary>The instance autoscaler (<c>autoscale</c>); null: off.</summary>
    public AutoscaleConfig? Autoscale { get; init; }

    /// <summary>What requests get when no version is healthy (<c>fallback</c>); null: 503 at once.</summary>
    public FallbackConfig? Fallback { get; init; }

    /// <summary>
    /// The document it was read from (config.json, or a load request's override), as compact JSON
    /// without comments: what <c>GET /v2/models/{name}/config</c> serves.
    /// </summary>
    public string Document { get; init; } = "{}";

    /// <summary>
    /// The inputs the server joins from the feature store (<c>features</c>); null when the client
    /// sends every input. Request inputs are numbered as <see cref="InputSpec"/> says.
    /// </summary>
    public FeatureJoinConfig? Features
    {
        get => _features;
        init
        {
            _features = value;
            _entityInputs = value is null ? [] : [.. value.Entities.Select(e => e.Tensor)];
            _joined = new bool[Inputs.Count];
            foreach (var input in value?.Inputs ?? [])
            {
                _joined[input.Input] = true;
            }

            _clientInputs = null;
        }
    }

    private readonly FeatureJoinConfig? _features;
    private readonly TensorConfig[] _entityInputs = [];
    private readonly bool[] _joined = [];
    private IReadOnlyList<TensorConfig>? _clientInputs;

    public bool Batched => MaxBatchSize > 0;

    /// <summary>The entity inputs of <see cref="Features"/>: request inputs the model does not take.</summary>
    public IReadOnlyList<TensorConfig> EntityInputs => _entityInputs;

    /// <summary>Every input a request may carry: the model's (<see cref="Inputs"/>, by index), then the entity inputs.</summary>
    public int RequestInputCount => Inputs.Count + _entityInputs.Length;

    /// <summary>Request input <paramref name="index"/>: a model input below <c>Inputs.Count</c>, an entity input above.</summary>
    public TensorConfig InputSpec(int index) => index < Inputs.Count ? Inputs[index] : _entityInputs[index - Inputs.Count];

    /// <summary>Whether model input <paramref name="index"/> is filled by the server from the feature store, not sent.</summary>
    public bool IsJoined(int index) => (uint)index < (uint)_joined.Length && _joined[index];

    /// <summary>What a client sends (the metadata's inputs): the model inputs not joined, then the entity inputs.</summary>
    public IReadOnlyList<TensorConfig> ClientInputs => _clientInputs ??= _features is null
        ? Inputs
        : [.. Inputs.Where((_, i) => !_joined[i]), .. _entityInputs];

    /// <summary>A request input's index by name (model inputs, then entity inputs); -1 when there is none.</summary>
    public int InputIndex(string name)
    {
        for (int i = 0; i < RequestInputCount; i++)
        {
            if (InputSpec(i).Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    public int InputIndex(ReadOnlySpan<byte> utf8Name)
    {
        int i = IndexOf(Inputs, utf8Name);
        if (i >= 0 || _entityInputs.Length == 0)
        {
            return i;
        }

        i = IndexOf(_entityInputs, utf8Name);
        return i < 0 ? -1 : Inputs.Count + i;
    }

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
