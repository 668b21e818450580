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
    private readonly Dictionary<string, FeatureView> _views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _definedIn = new(StringComparer.Ordinal);

    public FeatureRepository Link()
    {
        var entities = new List<EntityDefinition>();
        var sources = new List<PushSource>();
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

        var services = new List<FeatureService>();
        foreach (var draft in files.SelectMany(f => f.Services))
        {
            Define("feature service", draft.Name, draft.File, draft.Path);
            services.Add(Service(draft));
        }

        return new FeatureRepository(directory, store.Project, store.OnlineStores, store.NearCache, entities, sources, views, services);
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

        return new FeatureView(d.Features)
        {
            Name = d.Name,
            Entity = entity,
            Ttl = TimeSpan.FromSeconds(d.TtlSeconds),
            OnlineStore = d.StoreName,
            Source = source,
            Fingerprint = RowFingerprint.Of(d.Features),
            Index = index,
            Description = d.Description,
            Tags = d.Tags,
            File = d.File,
        };
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
