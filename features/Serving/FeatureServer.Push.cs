using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Features.Serving;

public sealed partial class FeatureServer
{
    /// <summary>
    /// Writes the rows of <paramref name="request"/> to every view its push source feeds. A view's
    /// row is written whole, so the columns must hold every feature of every such view; a row older
    /// than (or as old as) the one stored is skipped, which makes a retried push harmless.
    /// </summary>
    public async ValueTask<PushResult> PushAsync(PushRequest request, CancellationToken cancellationToken = default)
    {
        var source = repository.PushSource(request.PushSourceName)
            ?? throw new FeatureServerException(FeatureErrorKind.UnknownPushSource, $"no push source {PlainValues.Describe(request.PushSourceName)} is defined");
        switch (request.To)
        {
            case "online":
                break;
            case "offline" or "online_and_offline":
                throw Bad($"\"to\": \"{request.To}\" needs an offline store, which this server does not have; push with \"to\": \"online\"");
            default:
                throw Bad($"\"to\": {PlainValues.Describe(request.To)} is not supported; use \"online\"");
        }

        int rows = RowCount(request.Df, "df");
        CheckColumns(source, request.Df);
        var times = EventTimes(source, request.Df[source.TimestampField]);
        var writes = new RowWrite[source.Views.Count * rows];
        int w = 0;
        foreach (var view in source.Views)
        {
            var ids = request.Df[view.Entity.JoinKey];
            var values = new byte[view.RowBytes * rows];
            for (int r = 0; r < rows; r++)
            {
                if (!PlainValues.TryEntityKey(ids[r], view.Entity.ValueType, out var key) || !FitsKey(key))
                {
                    throw Bad($"\"{view.Entity.JoinKey}\"[{r}]: {PlainValues.Describe(ids[r])} is not an id of the entity \"{view.Entity.Name}\"");
                }

                var row = values.AsMemory(r * view.RowBytes, view.RowBytes);
                foreach (var feature in view.Features)
                {
                    object? value = request.Df[feature.Name][r];
                    if (!PlainValues.TryWriteValue(value, feature, row.Span[feature.Offset..]))
                    {
                        string shape = feature.Shape.Count == 0 ? "a" : $"a list of {feature.ElementCount}";
                        throw Bad($"\"{feature.Name}\"[{r}]: {PlainValues.Describe(value)} is not {shape} {feature.DataType.Name()} value{(feature.Shape.Count == 0 ? string.Empty : "s")} (feature view \"{view.Name}\")");
                    }
                }

                writes[w++] = new RowWrite(view, key, times[r], row);
            }
        }

        var written = new bool[writes.Length];
        try
        {
            await store.WriteAsync(writes, written, cancellationToken).ConfigureAwait(false);
        }
        catch (OnlineStoreUnavailableException e)
        {
            throw new FeatureServerException(FeatureErrorKind.Unavailable, e.Message, e);
        }

        int n = written.Count(x => x);
        return new PushResult(n, written.Length - n);
    }

    private static void CheckColumns(PushSource source, IReadOnlyDictionary<string, IReadOnlyList<object?>> df)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal) { source.TimestampField };
        foreach (var view in source.Views)
        {
            expected.Add(view.Entity.JoinKey);
            foreach (var f in view.Features)
            {
                expected.Add(f.Name);
            }
        }

        foreach (var name in df.Keys)
        {
            if (!expected.Contains(name))
            {
                throw Bad($"the column {PlainValues.Describe(name)} is not a join key, feature or timestamp of the push source \"{source.Name}\"");
            }
        }

        foreach (var name in expected)
        {
            if (!df.ContainsKey(name))
            {
                throw Bad($"the column \"{name}\" is required: the push source \"{source.Name}\" writes whole rows of {string.Join(", ", source.Views.Select(v => $"\"{v.Name}\""))}");
            }
        }
    }

    private static long[] EventTimes(PushSource source, IReadOnlyList<object?> column)
    {
        var times = new long[column.Count];
        for (int r = 0; r < times.Length; r++)
        {
            if (!PlainValues.TryEventTime(column[r], out times[r]))
            {
                throw Bad($"\"{source.TimestampField}\"[{r}]: {PlainValues.Describe(column[r])} is not an event time (ISO 8601, at or after 1970-01-01T00:00:00Z)");
            }
        }

        return times;
    }
}
