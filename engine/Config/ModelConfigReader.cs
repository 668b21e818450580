using System.Globalization;
using System.Text.Json;

namespace LowLatency.Engine.Config;

/// <summary>
/// Reads a Triton <c>config.json</c> strictly: every field is checked, unknown fields are errors, and
/// each error names the file and the field's path (<c>input[1].dims[0]</c>). Accepts what protobuf's
/// JSON mapping produces too: 64-bit integers as strings, enums by name. A <c>config.pbtxt</c>
/// (protobuf's text format) is read into the same JSON first and checked the same way.
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

        return ModelConfigFiles.Parse(text, path);
    }

    /// <summary>
    /// Reads a <c>config.pbtxt</c>: its text format turned into the JSON a <c>config.json</c> holds
    /// (which <see cref="ModelConfig.Document"/> then serves), then read as <see cref="Parse"/> reads it.
    /// </summary>
    public static ModelConfig ParseTextFormat(string text, string file) => Parse(TextFormatReader.Read(text, file).ToJsonString(), file);

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
