using LowLatency.Engine.Config;
using LowLatency.Features.Definitions;
using LowLatency.Join;
using LowLatency.Tests.Features;

namespace LowLatency.Tests.Join;

/// <summary>
/// A model's <c>features</c>: its form checked as config.json is (each error naming the field), then
/// linked to the feature repository (each feature exists, fits its input's datatype and size, and
/// its view's entity has an input).
/// </summary>
public sealed class FeatureJoinConfigTests
{
    private static readonly FeatureRepository Example = FeatureRepositoryReader.Read(TempFeatureRepository.Example);

    private static string Config(string features, string maxBatch = "8") => $$"""
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": {{maxBatch}},
         "input": [{"name": "dense", "data_type": "TYPE_FP32", "dims": [7]}, {"name": "ids", "data_type": "TYPE_INT64", "dims": [1]}],
         "output": [{"name": "p", "data_type": "TYPE_FP32", "dims": [1]}],
         "features": {{features}}}
        """;

    private const string Good = """
        {"entities": [{"input": "user_id", "entity": "user"}, {"input": "item_id", "entity": "item"}],
         "inputs": [{"name": "dense", "features": ["user_activity:clicks_1h", "user_activity:impressions_1h", "item_static:price", "item_static:quality_score",
                                                   "user_activity:ctr_24h", "user_activity:ctr_7d", "user_activity:clicks_24h"]},
                    {"name": "ids", "features": ["item_static:brand"]}],
         "required": ["item_static:brand"]}
        """;

    [Fact]
    public void A_valid_join_numbers_the_entity_inputs_after_the_models_and_merges_adjacent_copies()
    {
        var config = ModelConfigReader.Parse(Config(Good), "m/config.json");
        Assert.Equal(["user_id", "item_id"], config.EntityInputs.Select(t => t.Name));
        Assert.Equal(2, config.InputIndex("user_id"));
        Assert.True(config.IsJoined(0));
        Assert.Equal(["user_id", "item_id"], config.ClientInputs.Select(t => t.Name));

        var plan = JoinPlan.Link(config, Example, "m/config.json");
        Assert.Equal(["user_activity", "item_static"], plan.Views.Select(v => v.View.Name));
        Assert.Equal([false, true], plan.Views.Select(v => v.Required));
        // clicks_1h and impressions_1h are adjacent in the view and in the input: one copy; price and
        // quality_score, and ctr_24h and ctr_7d, likewise; clicks_24h lies elsewhere in the view.
        Assert.Equal(4, plan.Inputs[0].Copies.Length);
        Assert.Equal(28, plan.Inputs[0].RowBytes);
    }

    [Theory]
    [InlineData("""{"entities": [], "inputs": []}""", "field 'features.entities': a non-empty array")]
    [InlineData("""{"entities": [{"input": "dense", "entity": "user"}], "inputs": []}""", "field 'features.entities[0].input': 'dense' is already an input")]
    [InlineData("""{"entities": [{"input": "u", "entity": "user"}], "inputs": [{"name": "nope", "features": ["a:b"]}]}""", "field 'features.inputs[0].name': 'nope' is not an input of the model")]
    [InlineData("""{"entities": [{"input": "u", "entity": "user"}], "inputs": [{"name": "dense", "features": ["clicks_1h"]}]}""", "field 'features.inputs[0].features[0]': 'clicks_1h' is not of the form \"view:feature\"")]
    [InlineData("""{"entities": [{"input": "u", "entity": "user"}], "inputs": [{"name": "dense", "features": ["a:b", "a:b"]}]}""", "field 'features.inputs[0].features[1]': 'a:b' appears twice")]
    [InlineData("""{"entities": [{"input": "u", "entity": "user"}], "inputs": [{"name": "dense", "features": ["a:b"]}], "required": ["a:c"]}""", "field 'features.required[0]': 'a:c' is not among the features")]
    [InlineData("""{"entities": [{"input": "u", "entity": "user"}], "inputs": [{"name": "dense", "features": ["a:b"]}], "extra": 1}""", "field 'features.extra': unknown field")]
    public void A_malformed_join_stops_the_read_naming_the_field(string features, string expected)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(Config(features), "m/config.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_model_that_does_not_batch_cannot_join_per_row()
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(Config(Good, maxBatch: "0"), "m/config.json"));
        Assert.Contains("field 'features': a model whose inputs are joined per row must batch", e.Message);
    }

    [Theory]
    [InlineData("user_activity:nope", "features.inputs[0].features[0]': feature view 'user_activity' has no feature 'nope'")]
    [InlineData("nope:clicks_1h", "features.inputs[0].features[0]': the feature repository has no feature view 'nope'")]
    [InlineData("item_static:category", "features.inputs[0].features[0]': 'item_static:category' is INT64; input 'dense' takes FP32")]
    public void A_join_that_does_not_fit_the_repository_is_refused_naming_the_feature(string first, string expected)
    {
        string features = Good.Replace("\"user_activity:clicks_1h\"", $"\"{first}\"", StringComparison.Ordinal);
        var config = ModelConfigReader.Parse(Config(features), "m/config.json");
        var e = Assert.Throws<ModelConfigException>(() => JoinPlan.Link(config, Example, "m/config.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Sizes_and_entities_are_checked_against_the_repository()
    {
        var fewer = ModelConfigReader.Parse(Config(Good.Replace(", \"user_activity:clicks_24h\"", string.Empty, StringComparison.Ordinal)), "m/config.json");
        var e = Assert.Throws<ModelConfigException>(() => JoinPlan.Link(fewer, Example, "m/config.json"));
        Assert.Contains("field 'features.inputs[0].features': the features hold 6 elements per row; input 'dense' of dims [7] takes 7", e.Message);

        var noItem = ModelConfigReader.Parse(Config(Good.Replace("{\"input\": \"item_id\", \"entity\": \"item\"}", "{\"input\": \"item_id\", \"entity\": \"shop\"}", StringComparison.Ordinal)), "m/config.json");
        e = Assert.Throws<ModelConfigException>(() => JoinPlan.Link(noItem, Example, "m/config.json"));
        Assert.Contains("view 'item_static' is about entity 'item', which no features.entities input carries", e.Message);
    }

    [Fact]
    public void Without_a_feature_store_a_joining_model_is_refused_when_named_and_skipped_when_listed()
    {
        using var repo = new Infrastructure.TempRepository();
        repo.AddModel("m", Config(Good));
        var e = Assert.Throws<ModelConfigException>(() => LowLatency.Engine.Repository.ModelRepository.Read(repo.Root, "m", null));
        Assert.Contains("field 'features': this server has no feature store to join them from", e.Message);

        using var engine = new LowLatency.Engine.Serving.InferenceEngine(new LowLatency.Engine.Serving.EngineOptions { ModelRepository = repo.Root });
        Assert.Empty(engine.Scan());
        Assert.Contains(engine.Index(readyOnly: false), m => m.Name == "m" && m.Reason is { } reason && reason.Contains("no feature store", StringComparison.Ordinal));

        // A malformed features block is the configuration's fault, with or without a store: start-up stops.
        using var malformed = new Infrastructure.TempRepository();
        malformed.AddModel("m", Config(Good, maxBatch: "0"));
        using var strict = new LowLatency.Engine.Serving.InferenceEngine(new LowLatency.Engine.Serving.EngineOptions { ModelRepository = malformed.Root });
        Assert.Contains("must batch", Assert.Throws<ModelConfigException>(() => strict.Scan()).Message);
    }

    [Fact]
    public void A_join_whose_scratch_would_pass_its_bound_is_refused()
    {
        using var temp = new TempFeatureRepository();
        temp.Write("wide.json", """
            {"format_version": 1,
             "entities": [{"name": "doc", "join_keys": ["doc_id"], "value_type": "INT64"}],
             "feature_views": [{"name": "doc_embedding", "entities": ["doc"], "schema": [{"name": "v", "dtype": "FP32", "shape": [8192]}]}]}
            """);
        var repository = FeatureRepositoryReader.Read(temp.Root);
        var config = ModelConfigReader.Parse("""
            {"name": "w", "platform": "pytorch_libtorch", "max_batch_size": 1024,
             "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [8192]}],
             "output": [{"name": "p", "data_type": "TYPE_FP32", "dims": [1]}],
             "features": {"entities": [{"input": "doc_id", "entity": "doc"}], "inputs": [{"name": "x", "features": ["doc_embedding:v"]}]}}
            """, "w/config.json");
        var e = Assert.Throws<ModelConfigException>(() => JoinPlan.Link(config, repository, "w/config.json"));
        Assert.Contains("at max_batch_size 1024 a join would need 33554432 bytes", e.Message);
    }
}
