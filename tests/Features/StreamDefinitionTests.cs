using System.Text.Json.Nodes;
using LowLatency.Features.Definitions;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Features;

/// <summary>Stream sources and stream views in the repository format: the example reads as documented, and each wrong field is named.</summary>
public sealed class StreamDefinitionTests
{
    private static string Example => Path.Combine(RepoPaths.Root, "streams", "feature_repo");

    [Fact]
    public void The_stream_example_reads_as_documented()
    {
        var repo = FeatureRepositoryReader.Read(Example);
        var source = repo.StreamSource("user_events")!;
        Assert.Equal(("user_events", 4, "user_id", "ts", 2000L, 5000L, "user_events:dead"), (source.Stream, source.Partitions, source.KeyField, source.TimestampField, source.WatermarkDelayMs, source.IdleTimeoutMs, source.DeadLetterStream));
        Assert.Equal("user_events:3", source.PartitionStream(3));
        Assert.Equal(["user_ctr_1m", "user_activity_10m", "user_session"], source.Views.Select(v => v.Name));

        var ctr = repo.FeatureView("user_ctr_1m")!;
        Assert.Equal(new StreamWindow(StreamWindowKind.Tumbling, 60_000, 60_000, 0), ctr.Stream!.Window);
        Assert.Equal(30_000, ctr.Stream.AllowedLatenessMs);
        Assert.Equal(new FeatureAggregation(AggregationFunction.Count, null, new EventFilter("type", "click")), ctr.Feature("clicks_1m")!.Aggregation);
        Assert.Equal(new DerivedFeature("clicks_1m", "impressions_1m"), ctr.Feature("ctr_1m")!.Derived);
        Assert.Equal(new StreamWindow(StreamWindowKind.Sliding, 600_000, 60_000, 0), repo.FeatureView("user_activity_10m")!.Stream!.Window);
        Assert.Equal(new StreamWindow(StreamWindowKind.Session, 0, 0, 30_000), repo.FeatureView("user_session")!.Stream!.Window);
        Assert.Null(ctr.Source);
    }

    [Fact]
    public void What_computes_a_stream_view_is_part_of_its_fingerprint()
    {
        using var temp = Copy();
        uint before = FeatureRepositoryReader.Read(temp.Root).FeatureView("user_ctr_1m")!.Fingerprint;
        temp.Edit("user_events.json", n => n["feature_views"]![0]!["stream"]!["window"]!["size_ms"] = 120_000);
        Assert.NotEqual(before, FeatureRepositoryReader.Read(temp.Root).FeatureView("user_ctr_1m")!.Fingerprint);
    }

    [Theory]
    [InlineData("feature_views[0].stream.window.slide_ms", "does not apply to this type of window")]
    [InlineData("feature_views[1].stream.window.slide_ms", "must divide size_ms into at most 1000 slides")]
    [InlineData("feature_views[0].stream.source", "no stream source \"nowhere\" is defined")]
    [InlineData("feature_views[0].schema[0].aggregation.field", "does not apply to count")]
    [InlineData("feature_views[0].schema[3].aggregation.field", "is required for sum")]
    [InlineData("feature_views[0].schema[2].derived.ratio[1]", "\"ctr_1m\" is not an aggregated feature of this view")]
    [InlineData("feature_views[1].schema[2].dtype", "a mean or a ratio is a fraction")]
    [InlineData("feature_views[0].schema[0].aggregation.function", "\"median\" is not supported")]
    [InlineData("feature_views[0].source", "a stream view is written by its stream only")]
    [InlineData("feature_views[2].schema[0]", "a feature of a stream view has an aggregation or a ratio")]
    public void A_wrong_stream_field_is_named(string field, string message)
    {
        using var temp = Copy();
        temp.Edit("user_events.json", n =>
        {
            var views = n["feature_views"]!;
            switch (field)
            {
                case "feature_views[0].stream.window.slide_ms": views[0]!["stream"]!["window"]!["slide_ms"] = 10; break;
                case "feature_views[1].stream.window.slide_ms": views[1]!["stream"]!["window"]!["slide_ms"] = 70_000; break;
                case "feature_views[0].stream.source": views[0]!["stream"]!["source"] = "nowhere"; break;
                case "feature_views[0].schema[0].aggregation.field": views[0]!["schema"]![0]!["aggregation"]!["field"] = "dwell_ms"; break;
                case "feature_views[0].schema[3].aggregation.field": views[0]!["schema"]![3]!["aggregation"]!.AsObject().Remove("field"); break;
                case "feature_views[0].schema[2].derived.ratio[1]": views[0]!["schema"]![2]!["derived"]!["ratio"]![1] = "ctr_1m"; break;
                case "feature_views[1].schema[2].dtype": views[1]!["schema"]![2]!["dtype"] = "INT32"; break;
                case "feature_views[0].schema[0].aggregation.function": views[0]!["schema"]![0]!["aggregation"]!["function"] = "median"; break;
                case "feature_views[0].source":
                    n["push_sources"] = new JsonArray(new JsonObject { ["name"] = "p" });
                    views[0]!["source"] = "p";
                    break;
                case "feature_views[2].schema[0]": views[2]!["schema"]![0]!.AsObject().Remove("aggregation"); break;
            }
        });
        var e = Assert.Throws<FeatureRepositoryException>(() => FeatureRepositoryReader.Read(temp.Root));
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_source_must_be_partitioned_by_the_views_join_key()
    {
        using var temp = Copy();
        temp.Edit("user_events.json", n => n["stream_sources"]![0]!["key_field"] = "item_id");
        var e = Assert.Throws<FeatureRepositoryException>(() => FeatureRepositoryReader.Read(temp.Root));
        Assert.Equal("feature_views[0].stream.source", e.Field);
        Assert.Contains("is partitioned by \"item_id\", not by the join key \"user_id\"", e.Message, StringComparison.Ordinal);
    }

    private static TempFeatureRepository Copy()
    {
        var temp = new TempFeatureRepository(copyExample: false);
        foreach (var file in Directory.GetFiles(Example, "*.json"))
        {
            File.Copy(file, Path.Combine(temp.Root, Path.GetFileName(file)));
        }

        return temp;
    }
}
