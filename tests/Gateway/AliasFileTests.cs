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
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "timeout_milliseconds": 5 } ] } } }""", "aliases.rank.backends[0].timeout_milliseconds", "remote backend only")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "ftp://h:1" } ] } } }""", "aliases.rank.backends[0].url", "not a server's base address")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1/v2" } ] } } }""", "aliases.rank.backends[0].url", "no path")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "timeout_milliseconds": 0 } ] } } }""", "aliases.rank.backends[0].timeout_milliseconds", "must be within")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "timeout_milliseconds": 300 } ], "deadline_milliseconds": 200 } } }""", "aliases.rank.backends[0].timeout_milliseconds", "longer than the alias's deadline")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "idempotent": "yes" } ] } } }""", "aliases.rank.backends[0].idempotent", "expected a boolean")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "tls": { "ca": "ca.pem" } } ] } } }""", "aliases.rank.backends[0].tls", "needs an https url")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "https://h:1", "tls": { "certificate": "c.pem", "key": "c.key" } } ] } } }""", "aliases.rank.backends[0].tls.ca", "is required")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "https://h:1", "tls": { "ca": "ca.pem", "certificate": "c.pem" } } ] } } }""", "aliases.rank.backends[0].tls.key", "go together")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "https://h:1", "tls": { "ca": "missing.pem" } } ] } } }""", "aliases.rank.backends[0].tls.ca", "cannot be read")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "https://h:1", "tls": { "ca": "x", "pin": 1 } } ] } } }""", "aliases.rank.backends[0].tls.pin", "unknown field")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "grpc_url": "http://h:8001" } ] } } }""", "aliases.rank.backends[0].grpc_url", "remote backend only")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "grpc_url": "h:8001" } ] } } }""", "aliases.rank.backends[0].grpc_url", "not a server's base address")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "grpc_url": "https://h:8001" } ] } } }""", "aliases.rank.backends[0].grpc_url", "one tls setting for both")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "api_key": "${K}" } ] } } }""", "aliases.rank.backends[0].api_key", "remote backend only")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "api_key": "a-key-in-the-file" } ] } } }""", "aliases.rank.backends[0].api_key", "no place for a secret")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "bearer_token": "${1X}" } ] } } }""", "aliases.rank.backends[0].bearer_token", "no place for a secret")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "api_key": "${LOWLATENCY_TEST_UNSET_KEY}" } ] } } }""", "aliases.rank.backends[0].api_key", "names the environment variable LOWLATENCY_TEST_UNSET_KEY, which is not set")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1", "api_key": 7 } ] } } }""", "aliases.rank.backends[0].api_key", "expected a string")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1" }, { "name": "b", "model": "a", "weight": 1, "url": "http://h:2" } ], "hedge_after_milliseconds": 2000 } } }""", "aliases.rank.hedge_after_milliseconds", "not within the alias's deadline_milliseconds")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1" }, { "name": "b", "model": "a", "weight": 1, "url": "http://h:2" } ], "retries": 0, "hedge_after_milliseconds": 20 } } }""", "aliases.rank.hedge_after_milliseconds", "needs retries 1")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1" }, { "name": "b", "model": "a", "weight": 1 } ], "hedge_after_milliseconds": 20 } } }""", "aliases.rank.hedge_after_milliseconds", "needs two remote backends")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1, "url": "http://h:1" }, { "name": "b", "model": "a", "weight": 1, "url": "http://h:2" } ], "hedge_after_milliseconds": 0 } } }""", "aliases.rank.hedge_after_milliseconds", "must be within")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "retries": 2 } } }""", "aliases.rank.retries", "must be within 0 … 1")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "parameter": "tier", "equals": "gold", "backend": "b" } ] } } }""", "aliases.rank.rules[0].backend", "not a backend of this alias")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "parameter": "tier", "input": "x", "equals": 1, "backend": "a" } ] } } }""", "aliases.rank.rules[0]", "exactly one of")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "parameter": "tier", "backend": "a" } ] } } }""", "aliases.rank.rules[0].equals", "is required")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "parameter": "tier", "equals": [1], "backend": "a" } ] } } }""", "aliases.rank.rules[0].equals", "expected a string, a number or a boolean")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "parameter": "tier", "equals": 1, "at_least": 2, "backend": "a" } ] } } }""", "aliases.rank.rules[0].at_least", "belongs to an input rule")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "input": "x", "backend": "a" } ] } } }""", "aliases.rank.rules[0]", "needs 'at_least', 'at_most' or both")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "input": "x", "at_least": 5, "at_most": 4, "backend": "a" } ] } } }""", "aliases.rank.rules[0].at_least", "above at_most")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "input": "x", "dimension": -1, "at_least": 5, "backend": "a" } ] } } }""", "aliases.rank.rules[0].dimension", "must be within 0")]
    [InlineData("""{ "aliases": { "rank": { "backends": [ { "model": "a", "weight": 1 } ], "rules": [ { "input": "x", "at_least": 5, "backend": "a", "when": 1 } ] } } }""", "aliases.rank.rules[0].when", "unknown field")]
    public void An_invalid_file_is_refused_naming_the_field(string json, string field, string problem)
    {
        var e = Assert.Throws<ModelConfigException>(() => Parse(json));
        Assert.Equal("repo/aliases.json", e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_remote_backend_takes_its_url_and_defaults()
    {
        var rank = Assert.Single(Parse("""
            { "aliases": { "rank": { "deadline_milliseconds": 500, "retries": 0,
                "backends": [ { "name": "far", "url": "http://10.0.0.7:8000", "model": "ctr-ranker", "version": 2, "weight": 3, "idempotent": false } ] } } }
            """));
        var far = rank.Backends[0];
        Assert.True(far.IsRemote);
        Assert.Equal(new Uri("http://10.0.0.7:8000"), far.Remote!.Url);
        Assert.Equal(500, far.Remote.TimeoutMilliseconds); // the default 1000 ms, cut to the deadline
        Assert.Equal(256, far.Remote.MaxConnections);
        Assert.False(far.Remote.Idempotent);
        Assert.Null(far.Remote.Tls);
        Assert.Equal(500, rank.DeadlineMilliseconds);
        Assert.Equal(0, rank.Retries);
    }

    [Fact]
    public void A_remote_backend_takes_its_credentials_from_the_environment_and_never_shows_them()
    {
        Environment.SetEnvironmentVariable("LOWLATENCY_TEST_ALIAS_KEY", "key-from-the-environment");
        Environment.SetEnvironmentVariable("LOWLATENCY_TEST_ALIAS_TOKEN", "token.from.env");
        var rank = Assert.Single(Parse("""
            { "aliases": { "rank": { "backends": [
                { "name": "far", "url": "https://10.0.0.7:8000", "model": "m", "weight": 1, "api_key": "${LOWLATENCY_TEST_ALIAS_KEY}", "bearer_token": "${LOWLATENCY_TEST_ALIAS_TOKEN}" },
                { "name": "near", "url": "https://10.0.0.8:8000", "model": "m", "weight": 1 } ] } } }
            """));
        var credentials = rank.Backends[0].Remote!.Credentials!;
        Assert.Equal("key-from-the-environment", credentials.ApiKey);
        Assert.Equal("token.from.env", credentials.BearerToken);
        Assert.Null(rank.Backends[1].Remote!.Credentials);

        // A definition printed (a log line, a debugger) names the variables, not their values.
        string text = rank.Backends[0].ToString();
        Assert.Contains("${LOWLATENCY_TEST_ALIAS_KEY}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("key-from-the-environment", text, StringComparison.Ordinal);
        Assert.DoesNotContain("token.from.env", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_names_the_file()
    {
        var e = Assert.Throws<ModelConfigException>(() => Parse("{ \"aliases\": "));
        Assert.StartsWith("repo/aliases.json: is not valid JSON", e.Message, StringComparison.Ordinal);
    }
}
