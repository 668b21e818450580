using System.Globalization;
using System.Text.Json;

namespace LowLatency.Features.Definitions;

/// <summary>
/// The strict reading the repository's files share, as the server's config.json reader does it: each
/// field checked for its kind and range, unknown fields refused, and every error naming the file and
/// the field's path (<c>feature_views[0].schema[2].dtype</c>).
/// </summary>
internal abstract class StrictJsonReader(string file)
{
    public const int MaxNameLength = 128;

    protected string File { get; } = file;

    protected FeatureRepositoryException Error(string field, string problem) => new(File, field, problem);

    protected static string At(string path, string key) => path.Length == 0 ? key : path + "." + key;

    protected void Fields(JsonElement e, string path, IReadOnlySet<string> known)
    {
        Expect(e, JsonValueKind.Object, path.Length == 0 ? "(root)" : path);
        foreach (var p in e.EnumerateObject())
        {
            if (!known.Contains(p.Name))
            {
                throw Error(At(path, p.Name), "unknown field");
            }
        }
    }

    protected void Expect(JsonElement e, JsonValueKind kind, string path)
    {
        if (e.ValueKind != kind)
        {
            throw Error(path, $"expected {Describe(kind)}, found {Describe(e.ValueKind)}");
        }
    }

    protected string RequiredString(JsonElement e, string key, string path) =>
        OptionalString(e, key, At(path, key)) ?? throw Error(At(path, key), "is required");

    protected string? OptionalString(JsonElement e, string key, string fieldPath)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        Expect(v, JsonValueKind.String, fieldPath);
        return v.GetString()!;
    }

    /// <summary>A name used in keys and feature references: a letter or '_', then letters, digits and '_'.</summary>
    protected string RequiredName(JsonElement e, string key, string path) => CheckName(RequiredString(e, key, path), At(path, key));

    protected string CheckName(string name, string fieldPath)
    {
        if (!IsName(name))
        {
            throw Error(fieldPath, $"{Quote(name)} is not a valid name: use a letter or '_' first, then letters, digits and '_' ({MaxNameLength} characters at most)");
        }

        return name;
    }

    public static bool IsName(string name)
    {
        if (name.Length is 0 or > MaxNameLength || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    protected long Integer(JsonElement e, string key, string path, long fallback, long min, long max) =>
        e.TryGetProperty(key, out var v) ? IntegerValue(v, At(path, key), min, max) : fallback;

    protected long IntegerValue(JsonElement v, string fieldPath, long min, long max)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long value))
        {
            throw Error(fieldPath, $"expected an integer, found {Describe(v.ValueKind)} {Quote(v.GetRawText())}");
        }

        if (value < min || value > max)
        {
            throw Error(fieldPath, $"{value.ToString(CultureInfo.InvariantCulture)} is out of range [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
        }

        return value;
    }

    /// <summary>The file's <c>format_version</c>, which must be one this reader knows.</summary>
    protected void FormatVersion(JsonElement root)
    {
        if (!root.TryGetProperty("format_version", out var v))
        {
            throw Error("format_version", $"is required (this server reads format {FeatureRepository.FormatVersion})");
        }

        IntegerValue(v, "format_version", FeatureRepository.FormatVersion, FeatureRepository.FormatVersion);
    }

    protected string Description(JsonElement e, string path) => OptionalString(e, "description", At(path, "description")) ?? string.Empty;

    protected Dictionary<string, string> Tags(JsonElement e, string path)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!e.TryGetProperty("tags", out var t))
        {
            return tags;
        }

        string at = At(path, "tags");
        Expect(t, JsonValueKind.Object, at);
        foreach (var p in t.EnumerateObject())
        {
            Expect(p.Value, JsonValueKind.String, At(at, p.Name));
            tags[p.Name] = p.Value.GetString()!;
        }

        return tags;
    }

    /// <summary>An array field's elements with their paths (<c>key[i]</c>); empty when absent unless required.</summary>
    protected List<(JsonElement Element, string Path)> Array(JsonElement e, string key, string path, bool required)
    {
        var list = new List<(JsonElement, string)>();
        string at = At(path, key);
        if (!e.TryGetProperty(key, out var arr))
        {
            return required ? throw Error(at, "is required") : list;
        }

        Expect(arr, JsonValueKind.Array, at);
        int i = 0;
        foreach (var item in arr.EnumerateArray())
        {
            list.Add((item, $"{at}[{i++}]"));
        }

        return list;
    }

    /// <summary>Client or file text quoted for a message, cut at 128 characters.</summary>
    protected static string Quote(string text) => "\"" + (text.Length <= 128 ? text : string.Concat(text.AsSpan(0, 128), "…")) + "\"";

    protected static string Describe(JsonValueKind k) => k switch
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
