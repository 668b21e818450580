using System.Text.Json;
using System.Text.RegularExpressions;

namespace LowLatency.Features.Definitions;

/// <summary>
/// Reads <c>feature_store.json</c>, the counterpart of Feast's <c>feature_store.yaml</c>: the project
/// name, the named online stores (the embedded one named <c>default</c> when none is given), and the
/// near cache's bounds. A connection string may name environment variables as <c>${NAME}</c>, as
/// Feast's file may, so that passwords stay out of the repository.
/// </summary>
internal sealed partial class FeatureStoreFileReader(string file) : StrictJsonReader(file)
{
    public const string FileName = "feature_store.json";
    public const string DefaultStore = "default";

    private static readonly HashSet<string> TopLevel = ["format_version", "project", "description", "online_stores", "near_cache"];
    private static readonly HashSet<string> StoreFields = ["type", "connection_string", "redis_type", "read_timeout_ms"];
    private static readonly HashSet<string> CacheFields = ["capacity_bytes", "max_staleness_ms", "not_found_ms"];

    public FeatureStoreFile Read(JsonElement root, Func<string, string?> environment)
    {
        Fields(root, string.Empty, TopLevel);
        FormatVersion(root);
        string project = RequiredName(root, "project", string.Empty);
        Description(root, string.Empty);
        var stores = new List<OnlineStoreDefinition>();
        if (root.TryGetProperty("online_stores", out var s))
        {
            Expect(s, JsonValueKind.Object, "online_stores");
            foreach (var p in s.EnumerateObject())
            {
                string path = At("online_stores", p.Name);
                stores.Add(Store(CheckName(p.Name, path), p.Value, path, environment));
            }

            if (stores.Count == 0)
            {
                throw Error("online_stores", "names no store; leave the field out for the embedded one");
            }
        }
        else
        {
            stores.Add(new OnlineStoreDefinition { Name = DefaultStore, Kind = OnlineStoreKind.Embedded });
        }

        var cache = root.TryGetProperty("near_cache", out var c) ? NearCache(c) : new NearCacheSettings();
        return new FeatureStoreFile(project, stores, cache);
    }

    private OnlineStoreDefinition Store(string name, JsonElement e, string path, Func<string, string?> environment)
    {
        Fields(e, path, StoreFields);
        string type = RequiredString(e, "type", path);
        string? connection = OptionalString(e, "connection_string", At(path, "connection_string"));
        string? redisType = OptionalString(e, "redis_type", At(path, "redis_type"));
        var readTimeout = TimeSpan.FromMilliseconds(Integer(e, "read_timeout_ms", path, OnlineStoreDefinition.DefaultReadTimeoutMs, 1, 60_000));
        switch (type)
        {
            case "embedded":
                if (connection is not null || redisType is not null)
                {
                    throw Error(At(path, connection is not null ? "connection_string" : "redis_type"), "is for \"type\": \"redis\"; the embedded store needs none");
                }

                return new OnlineStoreDefinition { Name = name, Kind = OnlineStoreKind.Embedded, ReadTimeout = readTimeout };
            case "redis":
                if (connection is null)
                {
                    throw Error(At(path, "connection_string"), "is required for \"type\": \"redis\" (StackExchange.Redis's form: \"host:port,password=...\")");
                }

                return new OnlineStoreDefinition
                {
                    Name = name,
                    Kind = OnlineStoreKind.Redis,
                    ConnectionString = Substitute(connection, At(path, "connection_string"), environment),
                    ReadTimeout = readTimeout,
                    RedisType = redisType switch
                    {
                        null or "redis" => RedisTopology.Standalone,
                        "redis_cluster" => RedisTopology.Cluster,
                        _ => throw Error(At(path, "redis_type"), $"{Quote(redisType)} is not supported; use \"redis\" or \"redis_cluster\""),
                    },
                };
            default:
                throw Error(At(path, "type"), $"{Quote(type)} is not supported; use \"embedded\" or \"redis\"");
        }
    }

    private string Substitute(string text, string fieldPath, Func<string, string?> environment)
    {
        string result = Variable().Replace(text, m => environment(m.Groups[1].Value)
            ?? throw Error(fieldPath, $"names the environment variable {m.Groups[1].Value}, which is not set"));
        if (result.Trim().Length == 0)
        {
            throw Error(fieldPath, "is empty");
        }

        return result;
    }

    private NearCacheSettings NearCache(JsonElement e)
    {
        Fields(e, "near_cache", CacheFields);
        var defaults = new NearCacheSettings();
        return new NearCacheSettings
        {
            CapacityBytes = Integer(e, "capacity_bytes", "near_cache", defaults.CapacityBytes, 0, 1L << 40),
            MaxStaleness = TimeSpan.FromMilliseconds(Integer(e, "max_staleness_ms", "near_cache", (long)defaults.MaxStaleness.TotalMilliseconds, 0, 86_400_000)),
            NotFoundTtl = TimeSpan.FromMilliseconds(Integer(e, "not_found_ms", "near_cache", (long)defaults.NotFoundTtl.TotalMilliseconds, 0, 86_400_000)),
        };
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Variable();
}
