using System.Globalization;
using System.Text.Json;

namespace LowLatency.Engine.Config;

/// <summary>
/// Reads a Triton <c>config.json</c> strictly: every field is checked, unknown fields are errors, and
/// each error names the file and the field's path (<c>input[1].dims[0]</c>). Accepts what protobuf's
/// JSON mapping produces too: 64-bit integers as strings, enums by name.
/// </summary>
public static class ModelConfigReader
{
    public const string Platform = TritonConfigReader.Platform;

    public static ModelConfig Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new ModelConfigException(path, "cannot read: " + e.Message, e);
        }

        return Parse(text, path);
    }

    /// <summary>Reads a traffic document (<c>{"1": 90, "2": 10}</c>), as config.json's <c>traffic</c> field holds it.</summary>
    public static Dictionary<long, int> ParseTraffic(JsonElement traffic, string what) => new ConfigExtensionsReader(what).Traffic(traffic, "traffic");

    public static ModelConfig Parse(string json, string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(file, "not valid JSON: " + e.Message, e);
        }

        using (doc)
        {
            var config = new TritonConfigReader(file).Model(doc.RootElement);
            return new ConfigExtensionsReader(file).Apply(doc.RootElement, config) with { Document = Compact(doc.RootElement) };
        }
    }

    private static string Compact(JsonElement root)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, MinimalJsonEncoder.WriterOptions))
        {
            root.WriteTo(w);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
