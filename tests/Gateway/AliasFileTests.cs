using LowLatency.Engine.Config;
using LowLatency.Gateway.Config;

namespace LowLatency.Tests.Gateway;

/// <summary>aliases.json read strictly: every refusal names the file and the field.</summary>
public sealed class AliasFileTests
{
    private static IReadOnlyList<AliasDefinition> Parse(string json) => AliasFile.Parse("repo/aliases.json", json, name => name == "ctr-ranker");

    [Fact]
    public void A_valid_file_gives_its_aliases_with_defaults()
    {
        var aliases = Parse("""
            { "aliases": { "rank": {
                "backends": [ { "name": "small", "model": "ctr-ranker", "version": 1, "weight": 9 }, { "model": "ctr-large", "weight": 1 } ],
                "weights": { "floor_percent": 10, "cooldown_seconds": 1 } } } }
            """);
        var rank = Assert.Single(aliases);
        Assert.Equal("rank", rank.Name);
        Assert.Equal(new BackendDefinition("small", "ctr-ranker", 1, 9), rank.Backends[0]);
        Assert.Equal("1", rank.Backends[0].VersionText);
        Assert.Equal(new BackendDefinition("ctr-large", "ctr-large", null, 1), rank.Backends[1]);
        Assert.Equal(10, rank.Policy.FloorPercent);
        Assert.Equal(1, rank.Policy.CooldownSeconds);
        Assert.Equal(WeightPolicy.Default.EjectErrorRate, rank.Policy.EjectErrorRate);
    }

    [Theory]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 0 } ] } } }""", "aliases.rank.backends[0].weight", "must be within 1")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1.5 } ] } } }""", "aliases.rank.backends[0].weight", "expected an integer")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a" } ] } } }""", "aliases.rank.backends[0].weight", "is required")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "wieght": 2 } ] } } }""", "aliases.rank.backends[0].wieght", "unknown field")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "../etc", "weight": 1 } ] } } }""", "aliases.rank.backends[0].model", "not a model name")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 }, { "model": "a", "weight": 1 } ] } } }""", "aliases.rank.backends[1].name", "names another backend")]
    [InlineData("""{ "aliases": { "rank": { "backends": [] } } }""", "aliases.rank.backends", "at least one")]
    [InlineData("""{ "aliases": { "ctr-ranker": { "backends": [ { "model": "a", "weight": 1 } ] } } }""", "aliases.ctr-ranker", "may not hide it")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "weights": { "eject_error_rate": 2 } } } }""", "aliases.rank.weights.eject_error_rate", "must be within")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "version": "1", "weight": 1 } ] } } }""", "aliases.rank.backends[0].version", "expected a number")]
    [InlineData("""{ "aliasses": {} }""", "aliasses", "unknown field")]
    public void An_invalid_file_is_refused_naming_the_field(string json, string field, string problem)
    {
        var e = Assert.Throws<ModelConfigException>(() => Parse(json));
        Assert.Equal("repo/aliases.json", e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_names_the_file()
    {
        var e = Assert.Throws<ModelConfigException>(() => Parse("{ \"aliases\": "));
        Assert.StartsWith("repo/aliases.json: is not valid JSON", e.Message, StringComparison.Ordinal);
    }
}
