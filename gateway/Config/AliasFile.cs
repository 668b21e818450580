using System.Globalization;
using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Engine.Repository;

namespace LowLatency.Gateway.Config;

/// <summary>
/// <c>&lt;repository&gt;/aliases.json</c>, read as strictly as config.json: each field checked for its
/// kind and range, unknown fields refused, every error a <see cref="ModelConfigException"/> naming the
/// file and the field's path (<c>aliases.rank.backends[1].weight</c>). A top-level file, not a
/// directory per alias, so that the repository's model scan (one directory per model, each with its
/// config.json) stays as it is. No file: no aliases.
/// </summary>
public static class AliasFile
{
    public const string FileName = "aliases.json";

    private static readonly HashSet<string> RootFields = ["aliases"];
    private static readonly HashSet<string> AliasFields = ["backends", "weights"];
    private static readonly HashSet<string> BackendFields = ["name", "model", "version", "weight"];
    private static readonly HashSet<string> PolicyFields =
        ["floor_percent", "window_seconds", "tick_milliseconds", "latency_tolerance", "eject_error_rate", "min_requests", "cooldown_seconds", "probe_requests"];

    public static string PathIn(string repository) => Path.Combine(repository, FileName);

    /// <summary>The aliases of the repository at <paramref name="repository"/>; none when it has no alias file.</summary>
    public static IReadOnlyList<AliasDefinition> Read(string repository)
    {
        string path = PathIn(repository);
        if (!File.Exists(path))
        {
            return [];
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new ModelConfigException(path, $"cannot be read: {e.Message}", e);
        }

        return Parse(path, text, name => Directory.Exists(Path.Combine(repository, name)));
    }

    /// <summary>Reads the document <paramref name="text"/>; <paramref name="isModel"/> says whether a name is a model of the repository (an alias may not hide one).</summary>
    public static IReadOnlyList<AliasDefinition> Parse(string file, string text, Func<string, bool> isModel)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(file, $"is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            Fields(file, root, string.Empty, RootFields);
            if (!root.TryGetProperty("aliases", out var aliases))
            {
                throw new ModelConfigException(file, "aliases", "is required");
            }

            Expect(file, aliases, JsonValueKind.Object, "aliases");
            var result = new List<AliasDefinition>();
            foreach (var a in aliases.EnumerateObject())
            {
                string path = $"aliases.{a.Name}";
                if (!ModelRepository.IsValidName(a.Name))
                {
                    throw new ModelConfigException(file, path, "an alias name takes letters, digits, '-', '_' and '.', does not start with '.', and has at most 128 characters");
                }

                if (isModel(a.Name))
                {
                    throw new ModelConfigException(file, path, $"'{a.Name}' is a model of the repository: an alias may not hide it");
                }

                result.Add(Alias(file, a.Name, a.Value, path));
            }

            return result;
        }
    }

    private static AliasDefinition Alias(string file, string name, JsonElement e, string path)
    {
        Fields(file, e, path, AliasFields);
        if (!e.TryGetProperty("backends", out var list))
        {
            throw new ModelConfigException(file, $"{path}.backends", "is required");
        }

        Expect(file, list, JsonValueKind.Array, $"{path}.backends");
        var backends = new List<BackendDefinition>();
        int i = 0;
        foreach (var b in list.EnumerateArray())
        {
            var backend = Backend(file, b, $"{path}.backends[{i}]");
            foreach (var other in backends)
            {
                if (other.Name == backend.Name)
                {
                    throw new ModelConfigException(file, $"{path}.backends[{i}].name", $"'{backend.Name}' names another backend of this alias already");
                }
            }

            backends.Add(backend);
            i++;
        }

        if (backends.Count == 0)
        {
            throw new ModelConfigException(file, $"{path}.backends", "needs at least one backend");
        }

        var policy = e.TryGetProperty("weights", out var w) ? Policy(file, w, $"{path}.weights") : WeightPolicy.Default;
        return new AliasDefinition(name, backends, policy);
    }

    private static BackendDefinition Backend(string file, JsonElement e, string path)
    {
        Fields(file, e, path, BackendFields);
        string model = String(file, e, "model", path) ?? throw new ModelConfigException(file, $"{path}.model", "is required");
        if (!ModelRepository.IsValidName(model))
        {
            throw new ModelConfigException(file, $"{path}.model", $"'{model}' is not a model name");
        }

        string name = String(file, e, "name", path) ?? model;
        if (!ModelRepository.IsValidName(name))
        {
            throw new ModelConfigException(file, $"{path}.name", $"'{name}' is not a valid backend name (the characters of a model name)");
        }

        long? version = e.TryGetProperty("version", out _) ? Integer(file, e, "version", path, 1, long.MaxValue) : null;
        int weight = (int)(Integer(file, e, "weight", path, 1, 1_000_000) ?? throw new ModelConfigException(file, $"{path}.weight", "is required"));
        return new BackendDefinition(name, model, version, weight);
    }

    private static WeightPolicy Policy(string file, JsonElement e, string path)
    {
        Fields(file, e, path, PolicyFields);
        var d = WeightPolicy.Default;
        var policy = new WeightPolicy
        {
            FloorPercent = Number(file, e, "floor_percent", path, 0, 100) ?? d.FloorPercent,
            WindowSeconds = Number(file, e, "window_seconds", path, 0.01, 3600) ?? d.WindowSeconds,
            TickMilliseconds = Number(file, e, "tick_milliseconds", path, 10, 60_000) ?? d.TickMilliseconds,
            LatencyTolerance = Number(file, e, "latency_tolerance", path, 1, 1000) ?? d.LatencyTolerance,
            EjectErrorRate = Number(file, e, "eject_error_rate", path, 0.01, 1) ?? d.EjectErrorRate,
            MinRequests = (int)(Integer(file, e, "min_requests", path, 1, 1_000_000) ?? d.MinRequests),
            CooldownSeconds = Number(file, e, "cooldown_seconds", path, 0, 3600) ?? d.CooldownSeconds,
            ProbeRequests = (int)(Integer(file, e, "probe_requests", path, 1, 1_000_000) ?? d.ProbeRequests),
        };
        if (policy.WindowSeconds * 1000 < policy.TickMilliseconds)
        {
            throw new ModelConfigException(file, $"{path}.window_seconds", $"the window ({policy.WindowSeconds} s) is shorter than one tick ({policy.TickMilliseconds} ms)");
        }

        return policy;
    }

    private static void Fields(string file, JsonElement e, string path, HashSet<string> known)
    {
        Expect(file, e, JsonValueKind.Object, path.Length == 0 ? "(root)" : path);
        foreach (var p in e.EnumerateObject())
        {
            if (!known.Contains(p.Name))
            {
                throw new ModelConfigException(file, path.Length == 0 ? p.Name : $"{path}.{p.Name}", $"unknown field; known: {string.Join(", ", known)}");
            }
        }
    }

    private static void Expect(string file, JsonElement e, JsonValueKind kind, string path)
    {
        if (e.ValueKind != kind)
        {
            throw new ModelConfigException(file, path, $"expected {Describe(kind)}, found {Describe(e.ValueKind)}");
        }
    }

    private static string? String(string file, JsonElement e, string key, string path)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        Expect(file, v, JsonValueKind.String, $"{path}.{key}");
        return v.GetString()!;
    }

    private static long? Integer(string file, JsonElement e, string key, string path, long min, long max)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        string field = $"{path}.{key}";
        Expect(file, v, JsonValueKind.Number, field);
        if (!v.TryGetInt64(out long n))
        {
            throw new ModelConfigException(file, field, $"expected an integer, found {v.GetRawText()}");
        }

        if (n < min || n > max)
        {
            throw new ModelConfigException(file, field, $"must be within {min.ToString(CultureInfo.InvariantCulture)} … {max.ToString(CultureInfo.InvariantCulture)}, not {n.ToString(CultureInfo.InvariantCulture)}");
        }

        return n;
    }

    private static double? Number(string file, JsonElement e, string key, string path, double min, double max)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        string field = $"{path}.{key}";
        Expect(file, v, JsonValueKind.Number, field);
        double n = v.GetDouble();
        if (!(n >= min && n <= max))
        {
            throw new ModelConfigException(file, field, $"must be within {min.ToString(CultureInfo.InvariantCulture)} … {max.ToString(CultureInfo.InvariantCulture)}, not {v.GetRawText()}");
        }

        return n;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
