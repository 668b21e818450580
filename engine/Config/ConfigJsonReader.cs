using System.Globalization;
using System.Text.Json;

namespace LowLatency.Engine.Config;

/// <summary>
/// The strict reading every part of a model's configuration shares: each field checked for its
/// kind and range, unknown fields refused, and every error naming the file and the field's path
/// (<c>input[1].dims[0]</c>). Accepts what protobuf's JSON mapping produces too: 64-bit integers as
/// strings.
/// </summary>
internal abstract class ConfigJsonReader(string file)
{
    // A field's path can hold a key from the document, which a load request's override may send.
    protected string File { get; } = file;

    protected ModelConfigException Error(string field, string problem) => new(File, ClientText.Truncate(field, 2 * ClientText.MaxQuotedChars), problem);

    protected void Fields(JsonElement e, string path, IReadOnlySet<string> known)
    {
        Expect(e, JsonValueKind.Object, path.Length == 0 ? "(root)" : path);
        foreach (var p in e.EnumerateObject())
        {
            if (!known.Contains(p.Name))
            {
                throw Error(path.Length == 0 ? p.Name : $"{path}.{p.Name}", "unknown field");
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
        OptionalString(e, key, path) ?? throw Error(path, "is required");

    protected string? OptionalString(JsonElement e, string key, string path)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        Expect(v, JsonValueKind.String, path);
        return v.GetString()!;
    }

    protected bool Bool(JsonElement e, string key, string path, bool fallback)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return fallback;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(path, $"expected true or false, found {Describe(v.ValueKind)}"),
        };
    }

    protected long Integer(JsonElement e, string key, string path, long fallback, long min, long max) =>
        e.TryGetProperty(key, out var v) ? IntegerValue(v, path, min, max) : fallback;

    // Protobuf's JSON mapping writes 64-bit integers as strings; accept both forms.
    protected long IntegerValue(JsonElement v, string path, long min, long max)
    {
        long value;
        bool ok = v.ValueKind switch
        {
            JsonValueKind.Number => v.TryGetInt64(out value),
            JsonValueKind.String => long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value),
            _ => (value = 0) != 0,
        };
        if (!ok)
        {
            throw Error(path, $"expected an integer, found {Describe(v.ValueKind)} {ClientText.Quoted(v.GetRawText())}");
        }

        if (value < min || value > max)
        {
            throw Error(path, $"{value} is out of range [{min}, {max}]");
        }

        return value;
    }

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
