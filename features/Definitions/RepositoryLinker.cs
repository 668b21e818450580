namespace LowLatency.Features.Definitions;

/// <summary>
/// Joins the definition files into one repository: every name defined once, every reference (a
/// view's entity, online store and push source; a service's <c>view:feature</c>) resolved, and a
/// push source's columns unambiguous. Errors name the file and field of the definition at fault.
/// </summary>
internal sealed class RepositoryLinker(string directory, FeatureStoreFile store, IReadOnlyList<DefinitionFile> files)
{
    private readonly Dictionary<string, EntityDefinition> _entities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PushSource> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamSource> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FeatureView> _views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _definedIn = new(StringComparer.Ordinal);

    public FeatureRepository Link()
    {
        var entities = new List<EntityDefinition>();
        var sources = new List<PushSource>();
        var streams = new List<StreamSource>();
        foreach (var file in files)
        {
            foreach (var (entity, path) in file.Entities)
            {
                Define("entity", entity.Name, entity.File, path);
                _entities.Add(entity.Name, entity);
                entities.Add(entity);
            }

            foreach (var (source, path) in file.PushSources)
            {
                Define("push source", source.Name, source.File, path);
                _sources.Add(source.Name, source);
                sources.Add(source);
            }

            foreach (var (stream, path) in file.StreamSources)
            {
                Define("stream source", stream.Name, stream.File, path);
                _streams.Add(stream.Name, stream);
                streams.Add(stream);
            }
        }

        var views = new List<FeatureView>();
        foreach (var draft in files.SelectMany(f => f.Views))
        {
            Define("feature view", draft.Name, draft.File, draft.Path);
            var view = View(draft, views.Count);
            _views.Add(view.Name, view);
            views.Add(view);
        }

        foreach (var source in sources)
        {
            source.Views = views.Where(v => v.Source == source).ToList();
            CheckColumns(source, files.SelectMany(f => f.Views).Where(d => d.SourceName == source.Name).ToList());
        }

        foreach (var stream in streams)
        {
            stream.Views = views.Where(v => v.Stream?.Source == stream).ToList();
        }

        var services = new List<FeatureService>();
        foreach (var draft in files.SelectMany(f => f.Services))
        {
            Define("feature service", draft.Name, draft.File, draft.Path);
            services.Add(Service(draft));
        }

        return new FeatureRepository(directory, store.Project, store.OnlineStores, store.NearCache, entities, sources, views, services) { StreamSources = streams };
    }

    private void Define(string kind, string name, string file, string path)
    {
        if (_definedIn.TryGetValue(kind + "\0" + name, out var first))
        {
            throw new FeatureRepositoryException(file, path + ".name", $"the {kind} \"{name}\" is defined twice (first in {Path.GetFileName(first)})");
        }

        _definedIn.Add(kind + "\0" + name, file);
    }

    private FeatureView View(ViewDraft d, int index)
    {
        var entity = _entities.GetValueOrDefault(d.EntityName)
            ?? throw new FeatureRepositoryException(d.File, d.Path + ".entities[0]", $"no entity \"{d.EntityName}\" is defined");
        if (store.OnlineStores.All(s => s.Name != d.StoreName))
        {
            throw new FeatureRepositoryException(d.File, d.Path + ".online_store", $"no online store \"{d.StoreName}\" is defined in feature_store.json");
        }

        PushSource? source = null;
        if (d.SourceName is not null)
        {
            source = _sources.GetValueOrDefault(d.SourceName)
                ?? throw new FeatureRepositoryException(d.File, d.Path + ".source", $"no push source \"{d.SourceName}\" is defined");
        }

        for (int i = 0; i < d.Features.Count; i++)
        {
            string name = d.Features[i].Name;
            if (name == entity.JoinKey || name == source?.TimestampField)
            {
                throw new FeatureRepositoryException(d.File, $"{d.Path}.schema[{i}].name", $"\"{name}\" is the {(name == entity.JoinKey ? "entity's join key" : "push source's timestamp field")}; a feature needs a name of its own");
            }
        }

        var stream = d.Stream is null ? null : Stream(d, entity, source);
        if (stream is null)
        {
            for (int i = 0; i < d.Features.Count; i++)
            {
                if (d.Features[i].Aggregation is not null || d.Features[i].Derived is not null)
                {
                    throw new FeatureRepositoryException(d.File, $"{d.Path}.schema[{i}]", "an aggregation or a ratio needs a view with a stream block");
                }
            }
        }

        return new FeatureView(d.Features)
        {
            Stream = stream,
            Name = d.Name,
            Entity = entity,
            Ttl = TimeSpan.FromSeconds(d.TtlSeconds),
            OnlineStore = d.StoreName,
            Source = source,
            Fingerprint = RowFingerprint.Of(d.Features, stream is null ? null : $"{stream.Window}/{stream.AllowedLatenessMs}"),
            Index = index,
            Description = d.Description,
            Tags = d.Tags,
            File = d.File,
        };
    }

    // A stream view: its source exists and is partitioned by the view's entity (each entity's events
    // in one partition is what gives it one owner), nothing pushes to it as well (two writers of one
    // row), and each feature is computed: one aggregation or one ratio of two aggregated features.
    private StreamDefinition Stream(ViewDraft d, EntityDefinition entity, PushSource? push)
    {
        var draft = d.Stream!;
        var source = _streams.GetValueOrDefault(draft.SourceName)
            ?? throw new FeatureRepositoryException(d.File, draft.Path + ".source", $"no stream source \"{draft.SourceName}\" is defined");
        if (push is not null)
        {
            throw new FeatureRepositoryException(d.File, d.Path + ".source", "a stream view is written by its stream only: leave out the push source");
        }

        if (source.KeyField != entity.JoinKey)
        {
            throw new FeatureRepositoryException(d.File, draft.Path + ".source", $"the stream source \"{source.Name}\" is partitioned by \"{source.KeyField}\", not by the join key \"{entity.JoinKey}\" of the view's entity");
        }

        for (int i = 0; i < d.Features.Count; i++)
        {
            var f = d.Features[i];
            string at = $"{d.Path}.schema[{i}]";
            if ((f.Aggregation is null) == (f.Derived is null))
            {
                throw new FeatureRepositoryException(d.File, at, "a feature of a stream view has an aggregation or a ratio (derived), one of them");
            }

            if (f.Shape.Count != 0 || f.DataType == FeatureDataType.Bool)
            {
                throw new FeatureRepositoryException(d.File, at + ".dtype", "a stream feature is a number: a scalar, not BOOL");
            }

            bool floating = f.DataType is FeatureDataType.FP16 or FeatureDataType.BF16 or FeatureDataType.FP32 or FeatureDataType.FP64;
            if (!floating && (f.Derived is not null || f.Aggregation!.Function == AggregationFunction.Mean))
            {
                throw new FeatureRepositoryException(d.File, at + ".dtype", "a mean or a ratio is a fraction: use FP16, BF16, FP32 or FP64");
            }

            if (f.Derived is { } r)
            {
                foreach (var (part, name) in new[] { ("ratio[0]", r.Numerator), ("ratio[1]", r.Denominator) })
                {
                    var other = d.Features.FirstOrDefault(o => o.Name == name);
                    if (other?.Aggregation is null)
                    {
                        throw new FeatureRepositoryException(d.File, $"{at}.derived.{part}", $"\"{name}\" is not an aggregated feature of this view");
                    }
                }
            }
        }

        return new StreamDefinition(source, draft.Window, draft.AllowedLatenessMs);
    }

    // A push carries one column per name: a name must not be a join key for one view and a feature
    // (or the timestamp) for another.
    private static void CheckColumns(PushSource source, List<ViewDraft> drafts)
    {
        foreach (var d in drafts)
        {
            var joinKey = source.Views.First(v => v.Name == d.Name).Entity.JoinKey;
            if (joinKey == source.TimestampField)
            {
                throw new FeatureRepositoryException(d.File, d.Path + ".source", $"the push source's timestamp field \"{source.TimestampField}\" is also the join key of this view's entity");
            }

            foreach (var other in source.Views)
            {
                int i = d.Features.ToList().FindIndex(f => f.Name == other.Entity.JoinKey);
                if (i >= 0)
                {
                    throw new FeatureRepositoryException(d.File, $"{d.Path}.schema[{i}].name", $"\"{other.Entity.JoinKey}\" is the join key of \"{other.Name}\", which the same push source \"{source.Name}\" writes");
                }
            }
        }
    }

    private FeatureService Service(ServiceDraft d)
    {
        var refs = new List<FeatureReference>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (text, path) in d.References)
        {
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == text.Length - 1)
            {
                throw new FeatureRepositoryException(d.File, path, $"\"{text}\" is not a feature reference: write \"view:feature\"");
            }

            string viewName = text[..colon];
            string featureName = text[(colon + 1)..];
            var view = _views.GetValueOrDefault(viewName)
                ?? throw new FeatureRepositoryException(d.File, path, $"no feature view \"{viewName}\" is defined");
            var feature = view.Feature(featureName)
                ?? throw new FeatureRepositoryException(d.File, path, $"the feature view \"{viewName}\" has no feature \"{featureName}\"");
            if (!seen.Add(text))
            {
                throw new FeatureRepositoryException(d.File, path, $"\"{text}\" appears twice");
            }

            refs.Add(new FeatureReference(view, feature));
        }

        return new FeatureService { Name = d.Name, Features = refs, Description = d.Description, Tags = d.Tags, File = d.File };
    }
}
