using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Features.Store;

namespace LowLatency.Tests.Features;

/// <summary>Packed rows of the example's views for tests, and reads of them.</summary>
internal static class Rows
{
    /// <summary>A row of <paramref name="view"/> with every feature set from <paramref name="seed"/>: scalars seed + i, list elements seed + i + j.</summary>
    public static byte[] Make(FeatureView view, int seed)
    {
        var row = new byte[view.RowBytes];
        for (int i = 0; i < view.Features.Count; i++)
        {
            var f = view.Features[i];
            object value = f.Shape.Count == 0 ? seed + i : Enumerable.Range(seed + i, f.ElementCount).ToArray();
            Assert.True(PlainValues.TryWriteValue(value, f, row.AsSpan(f.Offset)), $"{f.Name} = {seed + i}");
        }

        return row;
    }

    public static RowWrite Write(FeatureView view, long id, DateTimeOffset time, int seed) =>
        new(view, EntityKey.Of(id), EventTime.ToMicros(time), Make(view, seed));

    public static async Task<bool[]> WriteAsync(IOnlineStore store, params RowWrite[] rows)
    {
        var written = new bool[rows.Length];
        await store.WriteAsync(rows, written);
        return written;
    }

    public static RowRead Read(FeatureView view, long id) => new(view, EntityKey.Of(id), new byte[view.RowBytes]);

    public static async Task<RowRead[]> ReadAsync(IOnlineStore store, params RowRead[] rows)
    {
        await store.ReadAsync(rows);
        return rows;
    }

    /// <summary>Now, to the microsecond, as the store keeps event times.</summary>
    public static DateTimeOffset Now() => EventTime.FromMicros(EventTime.ToMicros(DateTimeOffset.UtcNow));
}
