using LowLatency.Features.Serving;

namespace LowLatency.Tests.Features;

/// <summary>Push requests for the example's sources; feature values follow the entity id (id / 10 for ctr_24h).</summary>
internal static class Push
{
    public static PushRequest UserActivity(long[] ids, DateTimeOffset[] times) => new()
    {
        PushSourceName = "user_activity_push",
        Df = new Dictionary<string, IReadOnlyList<object?>>
        {
            ["user_id"] = ids.Cast<object?>().ToList(),
            ["event_timestamp"] = times.Select(t => (object?)t.ToString("O", System.Globalization.CultureInfo.InvariantCulture)).ToList(),
            ["clicks_1h"] = ids.Select(i => (object?)(double)i).ToList(),
            ["impressions_1h"] = ids.Select(i => (object?)(10.0 * i)).ToList(),
            ["clicks_24h"] = ids.Select(i => (object?)(2.0 * i)).ToList(),
            ["impressions_24h"] = ids.Select(i => (object?)(20.0 * i)).ToList(),
            ["ctr_24h"] = ids.Select(i => (object?)(i / 10.0)).ToList(),
            ["ctr_7d"] = ids.Select(i => (object?)0.05).ToList(),
            ["recent_categories"] = ids.Select(i => (object?)new long[] { i, i + 1, i + 2, i + 3 }).ToList(),
        },
    };

    public static PushRequest ItemStatic(long[] ids, DateTimeOffset[] times) => new()
    {
        PushSourceName = "item_catalog_push",
        Df = new Dictionary<string, IReadOnlyList<object?>>
        {
            ["item_id"] = ids.Cast<object?>().ToList(),
            ["event_timestamp"] = times.Cast<object?>().ToList(),
            ["category"] = ids.Select(i => (object?)(i % 7)).ToList(),
            ["subcategory"] = ids.Select(i => (object?)(i % 31)).ToList(),
            ["brand"] = ids.Select(i => (object?)(i % 101)).ToList(),
            ["price"] = ids.Select(i => (object?)(9.99 + i)).ToList(),
            ["quality_score"] = ids.Select(i => (object?)0.75f).ToList(),
            ["title_embedding"] = ids.Select(i => (object?)Enumerable.Range(0, 8).Select(j => (float)(i + (j / 8.0))).ToArray()).ToList(),
        },
    };
}
