using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Features.Serving;

/// <summary>
/// The operations behind Feast's feature server routes, on plain objects: <c>POST
/// /get-online-features</c> (<see cref="GetOnlineFeaturesAsync"/>) and <c>POST /push</c>
/// (<see cref="PushAsync"/>). A refusal is a <see cref="FeatureServerException"/> whose kind is the
/// HTTP status Feast answers with; the routes that speak HTTP are a thin layer over this.
/// </summary>
public sealed partial class FeatureServer(FeatureRepository repository, IOnlineStore store, TimeProvider? time = null)
{
    /// <summary>Entity rows one request may ask for; each costs a row per view read.</summary>
    public const int MaxRows = 10_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public FeatureRepository Repository => repository;

    public async ValueTask<OnlineFeaturesResponse> GetOnlineFeaturesAsync(GetOnlineFeaturesRequest request, CancellationToken cancellationToken = default)
    {
        var features = Resolve(request);
        var names = OutputNames(features, request.FullFeatureNames);
        var views = features.Select(f => f.View).Distinct().ToArray();
        int rows = RowCount(request.Entities, "entities");
        var keys = EntityKeys(request.Entities, views, rows);

        // One buffer for every row of every view: row r of view v at offsets[v] + r * RowBytes.
        var offsets = new int[views.Length];
        int total = 0;
        for (int v = 0; v < views.Length; v++)
        {
            offsets[v] = total;
            total += views[v].RowBytes * rows;
        }

        var buffer = new byte[total];
        var reads = new RowRead[rows * views.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int v = 0; v < views.Length; v++)
            {
                reads[(r * views.Length) + v] = new RowRead(views[v], keys[v][r], buffer.AsMemory(offsets[v] + (r * views[v].RowBytes), views[v].RowBytes));
            }
        }

        await store.ReadAsync(reads, cancellationToken).ConfigureAwait(false);
        ThrowIfUnavailable(reads);
        return Answer(request, features, names, views, reads, buffer, offsets, rows);
    }

    private OnlineFeaturesResponse Answer(GetOnlineFeaturesRequest request, List<FeatureReference> features, List<string> names, FeatureView[] views, RowRead[] reads, byte[] buffer, int[] offsets, int rows)
    {
        long now = EventTime.ToMicros(_time.GetUtcNow());
        var columnNames = new List<string>();
        var results = new List<FeatureVector>();
        foreach (var (joinKey, ids) in request.Entities)
        {
            columnNames.Add(joinKey);
            var values = new object?[rows];
            var statuses = new FieldStatus[rows];
            var times = new DateTimeOffset[rows];
            var entity = views.First(v => v.Entity.JoinKey == joinKey).Entity;
            for (int r = 0; r < rows; r++)
            {
                PlainValues.TryEntityKey(ids[r], entity.ValueType, out var key);
                values[r] = key.String ?? (object)key.Int64;
                statuses[r] = FieldStatus.Present;
                times[r] = DateTimeOffset.UnixEpoch;
            }

            results.Add(new FeatureVector(values, statuses, times));
        }

        for (int f = 0; f < features.Count; f++)
        {
            int v = Array.IndexOf(views, features[f].View);
            var values = new object?[rows];
            var statuses = new FieldStatus[rows];
            var times = new DateTimeOffset[rows];
            for (int r = 0; r < rows; r++)
            {
                ref var read = ref reads[(r * views.Length) + v];
                statuses[r] = FieldStatuses.Of(read, now);
                if (read.State == RowState.Found)
                {
                    values[r] = PlainValues.ReadValue(features[f].Feature, buffer.AsSpan(offsets[v] + (r * views[v].RowBytes), views[v].RowBytes));
                    times[r] = EventTime.FromMicros(read.EventTimeMicros);
                }
                else
                {
                    times[r] = DateTimeOffset.UnixEpoch;
                }
            }

            columnNames.Add(names[f]);
            results.Add(new FeatureVector(values, statuses, times));
        }

        return new OnlineFeaturesResponse(columnNames, results);
    }

    private List<FeatureReference> Resolve(GetOnlineFeaturesRequest request)
    {
        if (request.FeatureService is not null && request.Features is not null)
        {
            throw Bad("name either \"features\" or \"feature_service\", not both");
        }

        if (request.FeatureService is { } serviceName)
        {
            var service = repository.FeatureService(serviceName)
                ?? throw new FeatureServerException(FeatureErrorKind.NotFound, $"no feature service {PlainValues.Describe(serviceName)} is defined");
            return [.. service.Features];
        }

        if (request.Features is not { Count: > 0 } refs)
        {
            throw Bad("\"features\" (a list of \"view:feature\") or \"feature_service\" is required");
        }

        var features = new List<FeatureReference>(refs.Count);
        foreach (string text in refs)
        {
            int colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (colon <= 0 || colon == text!.Length - 1)
            {
                throw Bad($"{PlainValues.Describe(text)} is not a feature reference: write \"view:feature\"");
            }

            var view = repository.FeatureView(text[..colon])
                ?? throw new FeatureServerException(FeatureErrorKind.NotFound, $"no feature view {PlainValues.Describe(text[..colon])} is defined");
            var feature = view.Feature(text[(colon + 1)..])
                ?? throw new FeatureServerException(FeatureErrorKind.NotFound, $"the feature view \"{view.Name}\" has no feature {PlainValues.Describe(text[(colon + 1)..])}");
            features.Add(new FeatureReference(view, feature));
        }

        return features;
    }

    private static List<string> OutputNames(List<FeatureReference> features, bool full)
    {
        var names = new List<string>(features.Count);
        var seen = new Dictionary<string, FeatureReference>(StringComparer.Ordinal);
        foreach (var f in features)
        {
            string name = full ? f.View.Name + "__" + f.Feature.Name : f.Feature.Name;
            if (!seen.TryAdd(name, f))
            {
                throw Bad(seen[name] == f
                    ? $"\"{f}\" is asked for twice"
                    : $"\"{seen[name]}\" and \"{f}\" would both be named \"{name}\": set \"full_feature_names\" to name them view__feature");
            }

            names.Add(name);
        }

        return names;
    }

    private static int RowCount(IReadOnlyDictionary<string, IReadOnlyList<object?>> columns, string what)
    {
        if (columns.Count == 0)
        {
            throw Bad($"\"{what}\" holds no column");
        }

        int rows = -1;
        foreach (var (name, values) in columns)
        {
            if (values is null)
            {
                throw Bad($"the column {PlainValues.Describe(name)} of \"{what}\" is null; give a list");
            }

            if (rows >= 0 && values.Count != rows)
            {
                throw Bad($"the columns of \"{what}\" differ in length: {PlainValues.Describe(name)} has {values.Count} values, the first column {rows}");
            }

            rows = values.Count;
        }

        return rows <= MaxRows ? rows : throw Bad($"{rows} rows asked for; {MaxRows} at most");
    }

    // The ids of each view's entity, per row; every column must be a join key of a view asked for.
    private static EntityKey[][] EntityKeys(IReadOnlyDictionary<string, IReadOnlyList<object?>> entities, FeatureView[] views, int rows)
    {
        var keys = new EntityKey[views.Length][];
        var parsed = new Dictionary<string, EntityKey[]>(StringComparer.Ordinal);
        for (int v = 0; v < views.Length; v++)
        {
            var entity = views[v].Entity;
            if (!parsed.TryGetValue(entity.JoinKey, out var ids))
            {
                if (!entities.TryGetValue(entity.JoinKey, out var column))
                {
                    throw Bad($"the entity column \"{entity.JoinKey}\" is required: the feature view \"{views[v].Name}\" is keyed by it");
                }

                ids = new EntityKey[rows];
                for (int r = 0; r < rows; r++)
                {
                    if (!PlainValues.TryEntityKey(column[r], entity.ValueType, out ids[r]) || !FitsKey(ids[r]))
                    {
                        throw Bad($"\"{entity.JoinKey}\"[{r}]: {PlainValues.Describe(column[r])} is not an id of the entity \"{entity.Name}\" ({(entity.ValueType == EntityValueType.Int64 ? "an integer" : $"a non-empty string of at most {RedisKeyLayout.MaxStringIdBytes} UTF-8 bytes")})");
                    }
                }

                parsed.Add(entity.JoinKey, ids);
            }

            keys[v] = ids;
        }

        foreach (var name in entities.Keys)
        {
            if (!parsed.ContainsKey(name))
            {
                throw Bad($"the entity column {PlainValues.Describe(name)} is not the join key of any feature view asked for (join keys: {string.Join(", ", parsed.Keys)})");
            }
        }

        return keys;
    }

    private static bool FitsKey(EntityKey key) =>
        key.String is null || System.Text.Encoding.UTF8.GetByteCount(key.String) <= RedisKeyLayout.MaxStringIdBytes;

    private static void ThrowIfUnavailable(RowRead[] reads)
    {
        int n = 0;
        string? store = null;
        foreach (var r in reads)
        {
            if (r.State == RowState.Unavailable)
            {
                n++;
                store ??= r.View.OnlineStore;
            }
        }

        if (n != 0)
        {
            throw new FeatureServerException(FeatureErrorKind.Unavailable, $"the online store \"{store}\" could not be reached for {n} of {reads.Length} rows");
        }
    }

    private static FeatureServerException Bad(string message) => new(FeatureErrorKind.BadRequest, message);
}
