using System.Globalization;
using System.Text.Json;

namespace LowLatency.Engine.Config;

/// <summary>
/// The fields of Triton's <c>ModelConfig</c> this server implements, with Triton's names and
/// semantics: name, platform, batching, inputs and outputs, dynamic batching and its queue
/// policies, instance groups, the version policy, parameters. This server's own fields are read by
/// <see cref="ConfigExtensionsReader"/>; a top-level field neither knows is refused.
/// </summary>
internal sealed class TritonConfigReader(string file) : ConfigJsonReader(file)
{
    public const string Platform = "pytorch_libtorch";

    private static readonly HashSet<string> TopLevel = ["name", "platform", "backend", "max_batch_size", "input", "output", "dynamic_batching", "instance_group", "version_policy", "parameters", "default_model_filename", .. ConfigExtensionsReader.TopLevelFields];
    private static readonly HashSet<string> TensorFields = ["name", "data_type", "dims"];
    private static readonly HashSet<string> BatchingFields = ["preferred_batch_size", "max_queue_delay_microseconds", "preserve_ordering", "priority_levels", "default_priority_level", "default_queue_policy", "priority_queue_policy"];
    private static readonly HashSet<string> PolicyFields = ["timeout_action", "default_timeout_microseconds", "allow_timeout_override", "max_queue_size"];
    private static readonly HashSet<string> InstanceFields = ["name", "count", "kind", "gpus", "cores"];

    public ModelConfig Model(JsonElement root)
    {
        Fields(root, string.Empty, TopLevel);
        string name = RequiredString(root, "name", "name");
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name.Contains("..", StringComparison.Ordinal))
        {
            throw Error("name", $"{ClientText.Quoted(name)} is not a valid model name");
        }

        string platform = OptionalString(root, "platform", "platform") ?? string.Empty;
        string backend = OptionalString(root, "backend", "backend") ?? string.Empty;
        if (!(platform == Platform || (platform.Length == 0 && backend == "pytorch")))
        {
            throw Error("platform", $"{ClientText.Quoted(platform)} is not supported; this server runs TorchScript: use \"{Platform}\"");
        }

        if (backend.Length > 0 && backend != "pytorch")
        {
            throw Error("backend", $"{ClientText.Quoted(backend)} is not supported; use \"pytorch\" or omit it");
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
                throw Error("parameters.max_variable_dim", $"{ClientText.Quoted(mvd)} is not a positive integer");
            }

            maxVariableDim = v;
        }

        string filename = OptionalString(root, "default_model_filename", "default_model_filename") ?? "model.pt";
        if (filename.Length == 0 || filename.IndexOfAny(['/', '\\']) >= 0 || filename == "..")
        {
            throw Error("default_model_filename", $"{ClientText.Quoted(filename)} must be a plain file name");
        }

        return new ModelConfig(name, Platform, maxBatch, inputs, outputs, batching, groups, policy, parameters, filename)
        {
            MaxVariableDim = maxVariableDim,
        };
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
                throw Error(path + ".name", name.Length == 0 ? "must not be empty" : $"{ClientText.Quoted(name)} appears twice");
            }

            string dt = RequiredString(t, "data_type", path + ".data_type");
            if (dt is "TYPE_STRING" or "TYPE_BYTES")
            {
                throw Error(path + ".data_type", $"{ClientText.Quoted(dt)} is not supported: libtorch has no string tensors. String ids are taken as the entity inputs of the model's features (features.entities), never as a model input or output");
            }

            if (!TensorDataTypes.TryParseConfig(dt, out var type))
            {
                throw Error(path + ".data_type", $"{ClientText.Quoted(dt)} is not supported; use one of TYPE_BOOL, TYPE_UINT8, TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_FP16, TYPE_BF16, TYPE_FP32, TYPE_FP64");
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
                    throw Error(path, $"{ClientText.Quoted(p.Name)} is not a priority level between 1 and priority_levels ({levels})");
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
                _ => throw Error(path + ".timeout_action", $"{ClientText.Quoted(a)} is not REJECT or DELAY"),
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
                var k => throw Error(path + ".kind", $"{ClientText.Quoted(k)} is not KIND_AUTO, KIND_CPU or KIND_GPU"),
            };
            if (g.TryGetProperty("gpus", out var ga))
            {
                Expect(ga, JsonValueKind.Array, path + ".gpus");
                if (ga.GetArrayLength() > 0)
                {
                    throw Error(path + ".gpus", $"{CpuOnly}; remove gpus");
                }
            }

            list.Add(new InstanceGroupConfig(OptionalString(g, "name", path + ".name"), count, kind) { Cores = Cores(g, path) });
        }

        if (list.Count == 0)
        {
            throw Error("instance_group", "must not be empty");
        }

        return list;
    }

    // This server's extension: "cores": [2, 3] pins the group's instances, each to its own share.
    private List<int> Cores(JsonElement g, string path)
    {
        var cores = new List<int>();
        if (!g.TryGetProperty("cores", out var arr))
        {
            return cores;
        }

        Expect(arr, JsonValueKind.Array, path + ".cores");
        int i = 0;
        foreach (var c in arr.EnumerateArray())
        {
            string at = $"{path}.cores[{i++}]";
            int core = (int)IntegerValue(c, at, 0, 4095);
            if (!LowLatency.Native.Threading.ThreadTuning.CanPinTo(core))
            {
                throw Error(at, $"this process may not pin a thread to core {core} (no such core, offline, or outside a container's cpuset)");
            }

            cores.Add(core);
        }

        if (cores.Count == 0)
        {
            throw Error(path + ".cores", "must not be empty: leave it out for no pinning");
        }

        return cores;
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
}
