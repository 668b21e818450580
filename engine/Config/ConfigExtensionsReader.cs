using System.Globalization;
using System.Text.Json;

namespace LowLatency.Engine.Config;

/// <summary>
/// This server's extension fields of <c>config.json</c>, beside Triton's: <c>qos</c> (the QoS
/// classes' windows and deadlines), <c>traffic</c> (the split among versions), <c>health</c> (when a
/// version is ejected), <c>fallback</c> (what requests get when no version is healthy) and
/// <c>features</c> (inputs joined from the feature store) and <c>autoscale</c> (instances that follow the load).
/// </summary>
internal sealed class ConfigExtensionsReader(string file) : ConfigJsonReader(file)
{
    /// <summary>The top-level fields this reader owns.</summary>
    public static readonly string[] TopLevelFields = ["qos", "traffic", "health", "fallback", "features", "autoscale"];

    /// <summary>The Triton part of the configuration with the extensions read from <paramref name="root"/>.</summary>
    public ModelConfig Apply(JsonElement root, ModelConfig config) => config with
    {
        Qos = root.TryGetProperty("qos", out var q) ? Qos(q) : QosSettings.Default,
        Traffic = root.TryGetProperty("traffic", out var tr) ? Traffic(tr, "traffic") : new Dictionary<long, int>(),
        Health = root.TryGetProperty("health", out var h) ? Health(h) : HealthPolicy.Default,
        Fallback = root.TryGetProperty("fallback", out var fb) ? Fallback(fb, config.Name, [.. config.Outputs]) : null,
        Features = root.TryGetProperty("features", out var fj) ? new FeatureJoinReader(File).Read(fj, config) : null,
        Autoscale = root.TryGetProperty("autoscale", out var a) ? Autoscale(a, config) : null,
    };

    // {"autoscale": {"min_instances": 1, "max_instances": 4, "target_queue_delay_microseconds": 2000,
    //   "window_seconds": 5, "cooldown_seconds": 15, "idle_percent": 50}}
    private AutoscaleConfig Autoscale(JsonElement a, ModelConfig config)
    {
        Fields(a, "autoscale", new HashSet<string> { "min_instances", "max_instances", "target_queue_delay_microseconds", "window_seconds", "cooldown_seconds", "idle_percent", "scale_down_stabilization_seconds" });
        if (config.InstanceGroups.Count != 1)
        {
            throw Error("autoscale", $"scales a model with one instance group; this one has {config.InstanceGroups.Count}");
        }

        foreach (var required in (string[])["max_instances", "target_queue_delay_microseconds"])
        {
            if (!a.TryGetProperty(required, out _))
            {
                throw Error("autoscale." + required, "missing (required)");
            }
        }

        int min = (int)Integer(a, "min_instances", "autoscale.min_instances", 1, 1, InstanceCounts.Max);
        int max = (int)Integer(a, "max_instances", "autoscale.max_instances", min, 1, InstanceCounts.Max);
        if (max < min)
        {
            throw Error("autoscale.max_instances", $"{max} is less than min_instances ({min})");
        }

        return new AutoscaleConfig(
            min,
            max,
            Integer(a, "target_queue_delay_microseconds", "autoscale.target_queue_delay_microseconds", 0, 1, 60_000_000),
            Seconds(a, "window_seconds", 5, 0.1, 3600),
            Seconds(a, "cooldown_seconds", 15, 0, 86_400),
            (int)Integer(a, "idle_percent", "autoscale.idle_percent", AutoscaleConfig.DefaultIdlePercent, 1, 99),
            Seconds(a, "scale_down_stabilization_seconds", AutoscaleConfig.DefaultStabilizationSeconds, 0, 86_400));
    }

    private double Seconds(JsonElement a, string key, double fallback, double min, double max)
    {
        if (!a.TryGetProperty(key, out var v))
        {
            return fallback;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double s) || s < min || s > max)
        {
            throw Error("autoscale." + key, $"expected seconds within {min.ToString(CultureInfo.InvariantCulture)} … {max.ToString(CultureInfo.InvariantCulture)}, found {ClientText.Quoted(v.GetRawText())}");
        }

        return s;
    }

    // This server's extension: {"qos": {"realtime": {"max_queue_delay_microseconds": 0, "deadline_microseconds": 5000}, ...}}.
    private QosSettings Qos(JsonElement q)
    {
        Fields(q, "qos", new HashSet<string> { "realtime", "balanced", "throughput" });
        QosPolicy Class(string key, QosPolicy fallback)
        {
            if (!q.TryGetProperty(key, out var c))
            {
                return fallback;
            }

            string path = "qos." + key;
            Fields(c, path, new HashSet<string> { "max_queue_delay_microseconds", "deadline_microseconds" });
            return new QosPolicy(
                Integer(c, "max_queue_delay_microseconds", path + ".max_queue_delay_microseconds", fallback.WindowMicroseconds, 0, 60_000_000),
                Integer(c, "deadline_microseconds", path + ".deadline_microseconds", fallback.DeadlineMicroseconds, 0, 3_600_000_000));
        }

        var d = QosSettings.Default;
        return new QosSettings(Class("realtime", d.Realtime), Class("balanced", d.Balanced), Class("throughput", d.Throughput));
    }

    // {"traffic": {"1": 90, "2": 10}}: weights by version; the same document as PUT .../traffic.
    public Dictionary<long, int> Traffic(JsonElement t, string path)
    {
        Expect(t, JsonValueKind.Object, path);
        var weights = new Dictionary<long, int>();
        long sum = 0;
        foreach (var p in t.EnumerateObject())
        {
            string at = $"{path}.{p.Name}";
            if (!long.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v < 1)
            {
                throw Error(at, $"{ClientText.Quoted(p.Name)} is not a version number");
            }

            int w = (int)IntegerValue(p.Value, at, 0, 1_000_000);
            weights[v] = w;
            sum += w;
        }

        if (weights.Count > 0 && sum == 0)
        {
            throw Error(path, "the weights add up to 0: give at least one version a positive weight");
        }

        return weights;
    }

    private HealthPolicy Health(JsonElement h)
    {
        Fields(h, "health", new HashSet<string> { "enabled", "max_error_rate", "max_p99_latency_us", "window_seconds", "min_requests", "cooldown_seconds", "probe_percent", "probe_requests" });
        var d = HealthPolicy.Default;
        double rate = d.MaxErrorRate;
        if (h.TryGetProperty("max_error_rate", out var r))
        {
            if (r.ValueKind != JsonValueKind.Number || !r.TryGetDouble(out rate) || rate <= 0 || rate > 1)
            {
                throw Error("health.max_error_rate", $"expected a number in (0, 1], found {ClientText.Quoted(r.GetRawText())}");
            }
        }

        return new HealthPolicy(
            Bool(h, "enabled", "health.enabled", d.Enabled),
            rate,
            Integer(h, "max_p99_latency_us", "health.max_p99_latency_us", d.MaxP99LatencyMicroseconds, 0, 3_600_000_000),
            (int)Integer(h, "window_seconds", "health.window_seconds", d.WindowSeconds, 1, 3600),
            (int)Integer(h, "min_requests", "health.min_requests", d.MinRequests, 1, 1_000_000),
            (int)Integer(h, "cooldown_seconds", "health.cooldown_seconds", d.CooldownSeconds, 1, 86_400),
            (int)Integer(h, "probe_percent", "health.probe_percent", d.ProbePercent, 1, 100),
            (int)Integer(h, "probe_requests", "health.probe_requests", d.ProbeRequests, 1, 1_000_000));
    }

    // {"fallback": {"model": "ctr-ranker-small"}} or {"fallback": {"outputs": [{"name": "probability", "data": [0.5]}]}}.
    private FallbackConfig Fallback(JsonElement f, string self, List<TensorConfig> outputs)
    {
        Fields(f, "fallback", new HashSet<string> { "model", "outputs" });
        string? model = OptionalString(f, "model", "fallback.model");
        bool hasOutputs = f.TryGetProperty("outputs", out var arr);
        if ((model is null) == !hasOutputs)
        {
            throw Error("fallback", "give exactly one of model (another model's answer) or outputs (a fixed answer)");
        }

        if (model is not null)
        {
            if (model.Length == 0 || model == self)
            {
                throw Error("fallback.model", model.Length == 0 ? "must not be empty" : "must name another model");
            }

            return new FallbackConfig(model, []);
        }

        Expect(arr, JsonValueKind.Array, "fallback.outputs");
        var fixedOutputs = new List<FixedOutput>();
        var seen = new HashSet<int>();
        int i = 0;
        foreach (var o in arr.EnumerateArray())
        {
            string path = $"fallback.outputs[{i++}]";
            Fields(o, path, new HashSet<string> { "name", "data" });
            string name = RequiredString(o, "name", path + ".name");
            int index = outputs.FindIndex(t => t.Name == name);
            if (index < 0 || !seen.Add(index))
            {
                throw Error(path + ".name", index < 0 ? $"{ClientText.Quoted(name)} is not an output of the model" : $"{ClientText.Quoted(name)} appears twice");
            }

            var spec = outputs[index];
            if (spec.HasVariableDims)
            {
                throw Error(path + ".name", $"{ClientText.Quoted(name)} has a variable dimension; a fixed answer needs fixed dims");
            }

            long elements = 1;
            foreach (var d in spec.Dims)
            {
                elements *= d;
            }

            if (!o.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() != elements)
            {
                throw Error(path + ".data", $"an array of {elements} values (one row of {InferenceShape(spec.Dims)}) is required");
            }

            fixedOutputs.Add(new FixedOutput(index, Row(data, spec.DataType, path + ".data")));
        }

        if (fixedOutputs.Count != outputs.Count)
        {
            throw Error("fallback.outputs", $"must give every output of the model ({outputs.Count})");
        }

        return new FallbackConfig(null, fixedOutputs);
    }

    private static string InferenceShape(long[] dims) => "[" + string.Join(", ", dims) + "]";

    private byte[] Row(JsonElement data, TensorDataType type, string path)
    {
        int size = type.ElementSize();
        var row = new byte[data.GetArrayLength() * size];
        int k = 0;
        foreach (var e in data.EnumerateArray())
        {
            var dst = row.AsSpan(k * size, size);
            string at = $"{path}[{k}]";
            if (type == TensorDataType.Bool)
            {
                dst[0] = e.ValueKind switch
                {
                    JsonValueKind.True => 1,
                    JsonValueKind.False => 0,
                    _ => throw Error(at, "expected true or false"),
                };
            }
            else if (e.ValueKind != JsonValueKind.Number || !TensorDataTypes.TryWriteNumber(e, type, dst))
            {
                throw Error(at, $"{ClientText.Quoted(e.GetRawText())} is not a {type.ProtocolName()} value");
            }

            k++;
        }

        return row;
    }
}
