using System.Globalization;
using System.Text.Json;

namespace LowLatency.Engine.Config;

/// <summary>
/// Reads a Triton <c>config.json</c> strictly: every field is checked, unknown fields are errors, and
/// each error names the file and the field's path (<c>input[1].dims[0]</c>). Accepts what protobuf's
/// JSON mapping produces too: 64-bit integers as strings, enums by name.
/// </summary>
public static class ModelConfigReader
{
    public const string Platform = "pytorch_libtorch";

    private static readonly HashSet<string> TopLevel = ["name", "platform", "backend", "max_batch_size", "input", "output", "dynamic_batching", "instance_group", "version_policy", "parameters", "default_model_filename", "qos", "traffic", "health", "fallback"];
    private static readonly HashSet<string> TensorFields = ["name", "data_type", "dims"];
    private static readonly HashSet<string> BatchingFields = ["preferred_batch_size", "max_queue_delay_microseconds", "preserve_ordering", "priority_levels", "default_priority_level", "default_queue_policy", "priority_queue_policy"];
    private static readonly HashSet<string> PolicyFields = ["timeout_action", "default_timeout_microseconds", "allow_timeout_override", "max_queue_size"];
    private static readonly HashSet<string> InstanceFields = ["name", "count", "kind", "gpus"];

    public static ModelConfig Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new ModelConfigException(path, "cannot read: " + e.Message, e);
        }

        return Parse(text, path);
    }

    /// <summary>Reads a traffic document (<c>{"1": 90, "2": 10}</c>), as config.json's <c>traffic</c> field holds it.</summary>
    public static Dictionary<long, int> ParseTraffic(JsonElement traffic, string what) => new Reader(what).Traffic(traffic, "traffic");

    public static ModelConfig Parse(string json, string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(file, "not valid JSON: " + e.Message, e);
        }

        using (doc)
        {
            return new Reader(file).Model(doc.RootElement) with { Document = Compact(doc.RootElement) };
        }
    }

    private static string Compact(JsonElement root)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            root.WriteTo(w);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private sealed class Reader(string file)
    {
        private ModelConfigException Error(string field, string problem) => new(file, field, problem);

        public ModelConfig Model(JsonElement root)
        {
            Fields(root, string.Empty, TopLevel);
            string name = RequiredString(root, "name", "name");
            if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name.Contains("..", StringComparison.Ordinal))
            {
                throw Error("name", $"'{name}' is not a valid model name");
            }

            string platform = OptionalString(root, "platform", "platform") ?? string.Empty;
            string backend = OptionalString(root, "backend", "backend") ?? string.Empty;
            if (!(platform == Platform || (platform.Length == 0 && backend == "pytorch")))
            {
                throw Error("platform", $"'{platform}' is not supported; this server runs TorchScript: use \"{Platform}\"");
            }

            if (backend.Length > 0 && backend != "pytorch")
            {
                throw Error("backend", $"'{backend}' is not supported; use \"pytorch\" or omit it");
            }

            int maxBatch = (int)Integer(root, "max_batch_size", "max_batch_size", 0, 0, 1 << 16);
            var inputs = Tensors(root, "input", maxBatch);
            var outputs = Tensors(root, "output", maxBatch);
            if (inputs.Count == 0)
            {
                throw Error("input", "at least one input is required");
            }

            if (outputs.Count == 0)
            {
                throw Error("output", "at least one output is required");
            }

            var batching = root.TryGetProperty("dynamic_batching", out var db) ? Batching(db, maxBatch) : null;
            var groups = Instances(root);
            var policy = root.TryGetProperty("version_policy", out var vp) ? Versions(vp) : VersionPolicy.LatestOne;
            var parameters = Parameters(root);
            long? maxVariableDim = null;
            if (parameters.TryGetValue("max_variable_dim", out var mvd))
            {
                if (!long.TryParse(mvd, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1)
                {
                    throw Error("parameters.max_variable_dim", $"'{mvd}' is not a positive integer");
                }

                maxVariableDim = v;
            }

            string filename = OptionalString(root, "default_model_filename", "default_model_filename") ?? "model.pt";
            if (filename.Length == 0 || filename.IndexOfAny(['/', '\\']) >= 0 || filename == "..")
            {
                throw Error("default_model_filename", $"'{filename}' must be a plain file name");
            }

            var qos = root.TryGetProperty("qos", out var q) ? Qos(q) : QosSettings.Default;
            var traffic = root.TryGetProperty("traffic", out var tr) ? Traffic(tr, "traffic") : new Dictionary<long, int>();
            var health = root.TryGetProperty("health", out var h) ? Health(h) : HealthPolicy.Default;
            var fallback = root.TryGetProperty("fallback", out var fb) ? Fallback(fb, name, outputs) : null;
            return new ModelConfig(name, Platform, maxBatch, inputs, outputs, batching, groups, policy, parameters, filename)
            {
                MaxVariableDim = maxVariableDim,
                Qos = qos,
                Traffic = traffic,
                Health = health,
                Fallback = fallback,
            };
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
                    throw Error(at, $"'{p.Name}' is not a version number");
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
                    throw Error("health.max_error_rate", $"expected a number in (0, 1], found {r.GetRawText()}");
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
                    throw Error(path + ".name", index < 0 ? $"'{name}' is not an output of the model" : $"'{name}' appears twice");
                }

                var spec = outputs[index];
                if (spec.HasVariableDims)
                {
                    throw Error(path + ".name", $"'{name}' has a variable dimension; a fixed answer needs fixed dims");
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
                    throw Error(at, $"{e.GetRawText()} is not a {type.ProtocolName()} value");
                }

                k++;
            }

            return row;
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

        private List<TensorConfig> Tensors(JsonElement root, string key, int maxBatch)
        {
            var list = new List<TensorConfig>();
            if (!root.TryGetProperty(key, out var arr))
            {
                return list;
            }

            Expect(arr, JsonValueKind.Array, key);
            var names = new HashSet<string>(StringComparer.Ordinal);
            int i = 0;
            foreach (var t in arr.EnumerateArray())
            {
                string path = $"{key}[{i++}]";
                Fields(t, path, TensorFields);
                string name = RequiredString(t, "name", path + ".name");
                if (name.Length == 0 || !names.Add(name))
                {
                    throw Error(path + ".name", name.Length == 0 ? "must not be empty" : $"'{name}' appears twice");
                }

                string dt = RequiredString(t, "data_type", path + ".data_type");
                if (!TensorDataTypes.TryParseConfig(dt, out var type))
                {
                    throw Error(path + ".data_type", $"'{dt}' is not supported; use one of TYPE_BOOL, TYPE_UINT8, TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_FP16, TYPE_BF16, TYPE_FP32, TYPE_FP64");
                }

                if (!t.TryGetProperty("dims", out var dimsEl))
                {
                    throw Error(path + ".dims", "is required");
                }

                Expect(dimsEl, JsonValueKind.Array, path + ".dims");
                var dims = new List<long>();
                int d = 0;
                foreach (var e in dimsEl.EnumerateArray())
                {
                    long v = IntegerValue(e, $"{path}.dims[{d++}]", -1, int.MaxValue);
                    if (v == 0)
                    {
                        throw Error($"{path}.dims[{d - 1}]", "must be positive or -1 (variable)");
                    }

                    dims.Add(v);
                }

                if (dims.Count == 0 && maxBatch == 0)
                {
                    throw Error(path + ".dims", "a model without batching needs at least one dimension");
                }

                list.Add(new TensorConfig(name, type, [.. dims]));
            }

            return list;
        }

        private DynamicBatchingConfig Batching(JsonElement db, int maxBatch)
        {
            Expect(db, JsonValueKind.Object, "dynamic_batching");
            Fields(db, "dynamic_batching", BatchingFields);
            if (maxBatch == 0)
            {
                throw Error("dynamic_batching", "needs max_batch_size > 0");
            }

            var preferred = new List<int>();
            if (db.TryGetProperty("preferred_batch_size", out var pb))
            {
                Expect(pb, JsonValueKind.Array, "dynamic_batching.preferred_batch_size");
                int i = 0;
                foreach (var e in pb.EnumerateArray())
                {
                    preferred.Add((int)IntegerValue(e, $"dynamic_batching.preferred_batch_size[{i++}]", 1, maxBatch));
                }
            }

            long delay = Integer(db, "max_queue_delay_microseconds", "dynamic_batching.max_queue_delay_microseconds", 0, 0, 60_000_000);
            bool preserve = Bool(db, "preserve_ordering", "dynamic_batching.preserve_ordering", false);
            int levels = (int)Integer(db, "priority_levels", "dynamic_batching.priority_levels", 0, 0, 1000);
            int defaultLevel = (int)Integer(db, "default_priority_level", "dynamic_batching.default_priority_level", 0, 0, 1000);
            if (levels > 0 && (defaultLevel < 1 || defaultLevel > levels))
            {
                throw Error("dynamic_batching.default_priority_level", $"must be between 1 and priority_levels ({levels})");
            }

            var defaultPolicy = db.TryGetProperty("default_queue_policy", out var dq) ? Policy(dq, "dynamic_batching.default_queue_policy") : QueuePolicyConfig.Default;
            var perLevel = new Dictionary<int, QueuePolicyConfig>();
            if (db.TryGetProperty("priority_queue_policy", out var pq))
            {
                Expect(pq, JsonValueKind.Object, "dynamic_batching.priority_queue_policy");
                foreach (var p in pq.EnumerateObject())
                {
                    string path = $"dynamic_batching.priority_queue_policy.{p.Name}";
                    if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int level) || level < 1 || level > levels)
                    {
                        throw Error(path, $"'{p.Name}' is not a priority level between 1 and priority_levels ({levels})");
                    }

                    perLevel[level] = Policy(p.Value, path);
                }
            }

            return new DynamicBatchingConfig(preferred, delay, preserve, levels, defaultLevel, defaultPolicy, perLevel);
        }

        private QueuePolicyConfig Policy(JsonElement e, string path)
        {
            Expect(e, JsonValueKind.Object, path);
            Fields(e, path, PolicyFields);
            var action = TimeoutAction.Reject;
            if (OptionalString(e, "timeout_action", path + ".timeout_action") is { } a)
            {
                action = a switch
                {
                    "REJECT" => TimeoutAction.Reject,
                    "DELAY" => TimeoutAction.Delay,
                    _ => throw Error(path + ".timeout_action", $"'{a}' is not REJECT or DELAY"),
                };
            }

            return new QueuePolicyConfig(
                action,
                Integer(e, "default_timeout_microseconds", path + ".default_timeout_microseconds", 0, 0, long.MaxValue / 1000),
                Bool(e, "allow_timeout_override", path + ".allow_timeout_override", false),
                (int)Integer(e, "max_queue_size", path + ".max_queue_size", 0, 0, int.MaxValue));
        }

        private List<InstanceGroupConfig> Instances(JsonElement root)
        {
            var list = new List<InstanceGroupConfig>();
            if (!root.TryGetProperty("instance_group", out var arr))
            {
                list.Add(new InstanceGroupConfig(null, 1, InstanceKind.Cpu));
                return list;
            }

            Expect(arr, JsonValueKind.Array, "instance_group");
            int i = 0;
            foreach (var g in arr.EnumerateArray())
            {
                string path = $"instance_group[{i++}]";
                Fields(g, path, InstanceFields);
                int count = (int)Integer(g, "count", path + ".count", 1, 1, 64);

                // Refused rather than run on the CPU in silence: a Triton config that asks for a GPU
                // would otherwise serve at CPU speed with nothing said. KIND_AUTO means the CPU here,
                // as in Triton on a host without GPUs.
                const string CpuOnly = "this server runs models on the CPU only (no CUDA support yet)";
                var kind = (OptionalString(g, "kind", path + ".kind") ?? "KIND_AUTO") switch
                {
                    "KIND_AUTO" => InstanceKind.Auto,
                    "KIND_CPU" => InstanceKind.Cpu,
                    "KIND_GPU" => throw Error(path + ".kind", $"KIND_GPU: {CpuOnly}; use KIND_CPU or KIND_AUTO"),
                    var k => throw Error(path + ".kind", $"'{k}' is not KIND_AUTO, KIND_CPU or KIND_GPU"),
                };
                if (g.TryGetProperty("gpus", out var ga))
                {
                    Expect(ga, JsonValueKind.Array, path + ".gpus");
                    if (ga.GetArrayLength() > 0)
                    {
                        throw Error(path + ".gpus", $"{CpuOnly}; remove gpus");
                    }
                }

                list.Add(new InstanceGroupConfig(OptionalString(g, "name", path + ".name"), count, kind));
            }

            if (list.Count == 0)
            {
                throw Error("instance_group", "must not be empty");
            }

            return list;
        }

        private VersionPolicy Versions(JsonElement vp)
        {
            Expect(vp, JsonValueKind.Object, "version_policy");
            var props = vp.EnumerateObject().ToList();
            if (props.Count != 1)
            {
                throw Error("version_policy", "must hold exactly one of latest, all, specific");
            }

            var p = props[0];
            string path = "version_policy." + p.Name;
            Expect(p.Value, JsonValueKind.Object, path);
            switch (p.Name)
            {
                case "latest":
                    Fields(p.Value, path, new HashSet<string> { "num_versions" });
                    return new VersionPolicy(VersionPolicyKind.Latest, (int)Integer(p.Value, "num_versions", path + ".num_versions", 1, 1, 1000), []);
                case "all":
                    Fields(p.Value, path, new HashSet<string>());
                    return new VersionPolicy(VersionPolicyKind.All, 0, []);
                case "specific":
                    Fields(p.Value, path, new HashSet<string> { "versions" });
                    if (!p.Value.TryGetProperty("versions", out var va) || va.ValueKind != JsonValueKind.Array || va.GetArrayLength() == 0)
                    {
                        throw Error(path + ".versions", "a non-empty array of version numbers is required");
                    }

                    var versions = new List<long>();
                    int i = 0;
                    foreach (var e in va.EnumerateArray())
                    {
                        versions.Add(IntegerValue(e, $"{path}.versions[{i++}]", 1, long.MaxValue));
                    }

                    return new VersionPolicy(VersionPolicyKind.Specific, 0, versions);
                default:
                    throw Error(path, "unknown version policy; use latest, all or specific");
            }
        }

        private Dictionary<string, string> Parameters(JsonElement root)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!root.TryGetProperty("parameters", out var ps))
            {
                return result;
            }

            Expect(ps, JsonValueKind.Object, "parameters");
            foreach (var p in ps.EnumerateObject())
            {
                string path = "parameters." + p.Name;
                Expect(p.Value, JsonValueKind.Object, path);
                Fields(p.Value, path, new HashSet<string> { "string_value" });
                result[p.Name] = RequiredString(p.Value, "string_value", path + ".string_value");
            }

            return result;
        }

        private void Fields(JsonElement e, string path, IReadOnlySet<string> known)
        {
            Expect(e, JsonValueKind.Object, path.Length == 0 ? "(root)" : path);
            foreach (var p in e.EnumerateObject())
            {
                if (!known.Contains(p.Name))
                {
                    throw Error(path.Length == 0 ? p.Name : $"{path}.{p.Name}", "unknown field");
                }
            }
        }

        private void Expect(JsonElement e, JsonValueKind kind, string path)
        {
            if (e.ValueKind != kind)
            {
                throw Error(path, $"expected {Describe(kind)}, found {Describe(e.ValueKind)}");
            }
        }

        private string RequiredString(JsonElement e, string key, string path) =>
            OptionalString(e, key, path) ?? throw Error(path, "is required");

        private string? OptionalString(JsonElement e, string key, string path)
        {
            if (!e.TryGetProperty(key, out var v))
            {
                return null;
            }

            Expect(v, JsonValueKind.String, path);
            return v.GetString()!;
        }

        private bool Bool(JsonElement e, string key, string path, bool fallback)
        {
            if (!e.TryGetProperty(key, out var v))
            {
                return fallback;
            }

            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(path, $"expected true or false, found {Describe(v.ValueKind)}"),
            };
        }

        private long Integer(JsonElement e, string key, string path, long fallback, long min, long max) =>
            e.TryGetProperty(key, out var v) ? IntegerValue(v, path, min, max) : fallback;

        // Protobuf's JSON mapping writes 64-bit integers as strings; accept both forms.
        private long IntegerValue(JsonElement v, string path, long min, long max)
        {
            long value;
            bool ok = v.ValueKind switch
            {
                JsonValueKind.Number => v.TryGetInt64(out value),
                JsonValueKind.String => long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value),
                _ => (value = 0) != 0,
            };
            if (!ok)
            {
                throw Error(path, $"expected an integer, found {Describe(v.ValueKind)} {v.GetRawText()}");
            }

            if (value < min || value > max)
            {
                throw Error(path, $"{value} is out of range [{min}, {max}]");
            }

            return value;
        }

        private static string Describe(JsonValueKind k) => k switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Null => "null",
            _ => "nothing",
        };
    }
}
