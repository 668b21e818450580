using System.Text.Json;

namespace LowLatency.Engine.Config;

// {"features": {"entities": [{"input": "user_id", "entity": "user", "max_id_bytes": 64}],
//               "inputs": [{"name": "dense", "features": ["user_activity:ctr_24h", ...]}],
//               "required": ["item_static:category"]}}
internal sealed class FeatureJoinReader(string file) : ConfigJsonReader(file)
{
    public FeatureJoinConfig Read(JsonElement f, ModelConfig config)
    {
        Fields(f, "features", new HashSet<string> { "entities", "inputs", "required" });
        if (!config.Batched)
        {
            throw Error("features", "a model whose inputs are joined per row must batch: set max_batch_size to 1 or more");
        }

        var entities = Entities(f, config);
        var inputs = Inputs(f, config, entities);
        var required = new List<string>();
        if (f.TryGetProperty("required", out var req))
        {
            Expect(req, JsonValueKind.Array, "features.required");
            int i = 0;
            foreach (var r in req.EnumerateArray())
            {
                string path = $"features.required[{i++}]";
                string reference = Reference(r, path);
                if (!inputs.Exists(input => input.Features.Contains(reference)))
                {
                    throw Error(path, $"{ClientText.Quoted(reference)} is not among the features of features.inputs");
                }

                required.Add(reference);
            }
        }

        return new FeatureJoinConfig(entities, inputs, required);
    }

    private List<EntityInputConfig> Entities(JsonElement f, ModelConfig config)
    {
        if (!f.TryGetProperty("entities", out var arr) || arr.ValueKind != JsonValueKind.Array || arr.GetArrayLength() == 0)
        {
            throw Error("features.entities", "a non-empty array of {\"input\", \"entity\"} is required: the request inputs that carry the rows' ids");
        }

        var entities = new List<EntityInputConfig>();
        int i = 0;
        foreach (var e in arr.EnumerateArray())
        {
            string path = $"features.entities[{i++}]";
            Fields(e, path, new HashSet<string> { "input", "entity", "max_id_bytes" });
            string input = RequiredString(e, "input", path + ".input");
            string entity = RequiredString(e, "entity", path + ".entity");
            if (input.Length == 0 || entity.Length == 0)
            {
                throw Error(path, "input and entity must not be empty");
            }

            if (config.InputIndex(input) >= 0 || entities.Exists(x => x.Tensor.Name == input))
            {
                throw Error(path + ".input", $"{ClientText.Quoted(input)} is already an input: an entity input is its own name");
            }

            int? maxIdBytes = e.TryGetProperty("max_id_bytes", out var m)
                ? (int)IntegerValue(m, path + ".max_id_bytes", 1, EntityInputConfig.MaxIdBytesLimit)
                : null;

            // INT64 until the feature repository says the entity's ids are STRING (WithIdTypes).
            entities.Add(new EntityInputConfig(new TensorConfig(input, TensorDataType.Int64, [1]), entity) { MaxIdBytes = maxIdBytes });
        }

        return entities;
    }

    private List<JoinedInputConfig> Inputs(JsonElement f, ModelConfig config, List<EntityInputConfig> entities)
    {
        if (!f.TryGetProperty("inputs", out var arr) || arr.ValueKind != JsonValueKind.Array || arr.GetArrayLength() == 0)
        {
            throw Error("features.inputs", "a non-empty array of {\"name\", \"features\"} is required: the model inputs the server fills");
        }

        var inputs = new List<JoinedInputConfig>();
        int i = 0;
        foreach (var e in arr.EnumerateArray())
        {
            string path = $"features.inputs[{i++}]";
            Fields(e, path, new HashSet<string> { "name", "features" });
            string name = RequiredString(e, "name", path + ".name");
            int index = config.InputIndex(name);
            if (index < 0)
            {
                throw Error(path + ".name", $"{ClientText.Quoted(name)} is not an input of the model");
            }

            if (inputs.Exists(x => x.Input == index))
            {
                throw Error(path + ".name", $"{ClientText.Quoted(name)} appears twice");
            }

            if (config.Inputs[index].HasVariableDims)
            {
                throw Error(path + ".name", $"{ClientText.Quoted(name)} has a variable dimension; a joined input needs fixed dims");
            }

            if (!e.TryGetProperty("features", out var refs) || refs.ValueKind != JsonValueKind.Array || refs.GetArrayLength() == 0)
            {
                throw Error(path + ".features", "a non-empty array of \"view:feature\" is required");
            }

            var features = new List<string>();
            int k = 0;
            foreach (var r in refs.EnumerateArray())
            {
                string at = $"{path}.features[{k++}]";
                string reference = Reference(r, at);
                if (features.Contains(reference) || inputs.Exists(x => x.Features.Contains(reference)))
                {
                    throw Error(at, $"{ClientText.Quoted(reference)} appears twice");
                }

                features.Add(reference);
            }

            inputs.Add(new JoinedInputConfig(index, features));
        }

        return inputs;
    }

    private string Reference(JsonElement r, string path)
    {
        if (r.ValueKind != JsonValueKind.String)
        {
            throw Error(path, $"expected a \"view:feature\" string, found {Describe(r.ValueKind)}");
        }

        string reference = r.GetString()!;
        int colon = reference.IndexOf(':');
        if (colon <= 0 || colon == reference.Length - 1 || reference.IndexOf(':', colon + 1) >= 0)
        {
            throw Error(path, $"{ClientText.Quoted(reference)} is not of the form \"view:feature\"");
        }

        return reference;
    }
}
