using LowLatency.Engine.Config;
using LowLatency.Features.Definitions;

namespace LowLatency.Join;

/// <summary>
/// A model's <c>features</c> linked to the feature repository: which views are read by which entity
/// input, and where each feature's bytes go in the joined inputs. Made once per configuration, when
/// the model is read; <see cref="Link"/> refuses one that does not fit, naming the field.
/// </summary>
internal sealed class JoinPlan
{
    private JoinPlan(ModelConfig config, ViewRead[] views, JoinedInput[] inputs, int scratchRowBytes)
    {
        Config = config;
        Views = views;
        Inputs = inputs;
        ScratchRowBytes = scratchRowBytes;
    }

    /// <summary>The most a join's scratch may take (each of a few pooled per model).</summary>
    public const long MaxScratchBytes = 16L << 20;

    public ModelConfig Config { get; }

    public ViewRead[] Views { get; }

    public JoinedInput[] Inputs { get; }

    /// <summary>The scratch bytes of one request row: every view's row, side by side.</summary>
    public int ScratchRowBytes { get; }

    public static JoinPlan Link(ModelConfig config, FeatureRepository repository, string file)
    {
        var join = config.Features ?? throw new ArgumentException("the model joins no features", nameof(config));
        var views = new List<ViewRead>();
        var inputs = new List<JoinedInput>();
        int scratch = 0;
        for (int j = 0; j < join.Inputs.Count; j++)
        {
            var input = join.Inputs[j];
            var spec = config.Inputs[input.Input];
            var copies = new List<FieldCopy>();
            int to = 0;
            for (int k = 0; k < input.Features.Count; k++)
            {
                string path = $"features.inputs[{j}].features[{k}]";
                var (view, feature) = Resolve(input.Features[k], repository, file, path);
                if (feature.DataType.Name() != spec.DataType.ProtocolName())
                {
                    throw new ModelConfigException(file, path, $"'{input.Features[k]}' is {feature.DataType.Name()}; input '{spec.Name}' takes {spec.DataType.ProtocolName()}");
                }

                int v = views.FindIndex(x => x.View == view);
                if (v < 0)
                {
                    int entity = EntityInput(config, view, file, path);
                    var ids = config.InputSpec(entity);
                    views.Add(new ViewRead(view, entity, false, scratch, ids.DataType == TensorDataType.Bytes ? ids.ElementSize : 0));
                    scratch += view.RowBytes;
                    v = views.Count - 1;
                }

                if (join.Required.Contains(input.Features[k]))
                {
                    views[v] = views[v] with { Required = true };
                }

                var last = copies.Count > 0 ? copies[^1] : default;
                if (copies.Count > 0 && last.View == v && last.From + last.Length == feature.Offset && last.To + last.Length == to)
                {
                    copies[^1] = last with { Length = last.Length + feature.ByteSize };
                }
                else
                {
                    copies.Add(new FieldCopy(v, feature.Offset, to, feature.ByteSize));
                }

                to += feature.ByteSize;
            }

            long elements = 1;
            foreach (long d in spec.Dims)
            {
                elements *= d;
            }

            int rowBytes = (int)elements * spec.DataType.ElementSize();
            if (to != rowBytes)
            {
                throw new ModelConfigException(file, $"features.inputs[{j}].features", $"the features hold {to / spec.DataType.ElementSize()} elements per row; input '{spec.Name}' of dims {Dims(spec.Dims)} takes {elements}");
            }

            inputs.Add(new JoinedInput(input.Input, rowBytes, [.. copies]));
        }

        for (int e = 0; e < join.Entities.Count; e++)
        {
            string name = join.Entities[e].Entity;
            if (repository.Entity(name) is null)
            {
                throw new ModelConfigException(file, $"features.entities[{e}].entity", $"the feature repository has no entity '{name}'");
            }

            if (!views.Exists(v => v.EntityInput == config.Inputs.Count + e))
            {
                throw new ModelConfigException(file, $"features.entities[{e}]", $"no feature of features.inputs is about entity '{name}': its input would be read for nothing");
            }
        }

        // The scratch a join works in holds every view's row for the model's largest batch.
        if ((long)scratch * config.MaxBatchSize > MaxScratchBytes)
        {
            throw new ModelConfigException(file, "features", $"the views' rows take {scratch} bytes per request row; at max_batch_size {config.MaxBatchSize} a join would need {(long)scratch * config.MaxBatchSize} bytes, over {MaxScratchBytes}: lower max_batch_size or join fewer features");
        }

        return new JoinPlan(config, [.. views], [.. inputs], scratch);
    }

    private static (FeatureView View, FeatureDefinition Feature) Resolve(string reference, FeatureRepository repository, string file, string path)
    {
        int colon = reference.IndexOf(':');
        var view = repository.FeatureView(reference[..colon])
            ?? throw new ModelConfigException(file, path, $"the feature repository has no feature view '{reference[..colon]}'");
        var feature = view.Feature(reference[(colon + 1)..])
            ?? throw new ModelConfigException(file, path, $"feature view '{view.Name}' has no feature '{reference[(colon + 1)..]}'");
        return (view, feature);
    }

    private static int EntityInput(ModelConfig config, FeatureView view, string file, string path)
    {
        var entities = config.Features!.Entities;
        for (int e = 0; e < entities.Count; e++)
        {
            if (entities[e].Entity == view.Entity.Name)
            {
                // WithIdTypes made each entity input's type its entity's; a configuration that did not pass through it may differ.
                var type = entities[e].Tensor.DataType;
                if (type != IdType(view.Entity.ValueType))
                {
                    throw new ModelConfigException(file, $"features.entities[{e}].entity", $"entity '{view.Entity.Name}' has {Name(view.Entity.ValueType)} ids; input '{entities[e].Tensor.Name}' is {type.ProtocolName()}");
                }

                return config.Inputs.Count + e;
            }
        }

        throw new ModelConfigException(file, path, $"view '{view.Name}' is about entity '{view.Entity.Name}', which no features.entities input carries");
    }

    /// <summary>
    /// <paramref name="config"/> with each entity input typed as its entity's ids are: INT64, or
    /// BYTES of up to <c>max_id_bytes</c> for a STRING entity; <c>max_id_bytes</c> on an INT64
    /// entity, or an entity the repository lacks, stops the read naming the field.
    /// </summary>
    public static ModelConfig WithIdTypes(ModelConfig config, FeatureRepository repository, string file)
    {
        var join = config.Features ?? throw new ArgumentException("the model joins no features", nameof(config));
        var entities = new EntityInputConfig[join.Entities.Count];
        bool changed = false;
        for (int e = 0; e < entities.Length; e++)
        {
            var input = join.Entities[e];
            var entity = repository.Entity(input.Entity)
                ?? throw new ModelConfigException(file, $"features.entities[{e}].entity", $"the feature repository has no entity '{input.Entity}'");
            if (entity.ValueType == EntityValueType.String)
            {
                entities[e] = input.Tensor.DataType == TensorDataType.Bytes ? input : input.WithStringIds();
            }
            else if (input.MaxIdBytes is not null)
            {
                throw new ModelConfigException(file, $"features.entities[{e}].max_id_bytes", $"entity '{entity.Name}' has {Name(entity.ValueType)} ids; max_id_bytes bounds STRING ids only");
            }
            else
            {
                entities[e] = input;
            }

            changed |= !ReferenceEquals(entities[e], input);
        }

        return changed ? config with { Features = join with { Entities = entities } } : config;
    }

    private static TensorDataType IdType(EntityValueType type) => type == EntityValueType.String ? TensorDataType.Bytes : TensorDataType.Int64;

    private static string Name(EntityValueType type) => type == EntityValueType.String ? "STRING" : "INT64";

    private static string Dims(long[] dims) => "[" + string.Join(", ", dims) + "]";
}
