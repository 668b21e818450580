namespace LowLatency.Engine.Config;

/// <summary>
/// Which file of a model directory holds its configuration: <c>config.json</c>, or Triton's
/// <c>config.pbtxt</c> as a Triton repository has it. A directory with both is refused: the two can
/// disagree, and serving either one in silence would leave the other edited to no effect.
/// </summary>
public static class ModelConfigFiles
{
    public const string Json = "config.json";

    public const string TextFormat = "config.pbtxt";

    /// <summary>The configuration file of model directory <paramref name="dir"/>; refused when it has none, or both.</summary>
    public static string Find(string dir)
    {
        string json = Path.Combine(dir, Json);
        string text = Path.Combine(dir, TextFormat);
        bool hasJson = File.Exists(json);
        bool hasText = File.Exists(text);
        if (hasJson && hasText)
        {
            throw new ModelConfigException(dir, $"holds both {Json} and {TextFormat}: keep one (the server does not choose between two configurations)");
        }

        if (!hasJson && !hasText)
        {
            throw new ModelConfigException(json, $"missing: every model directory needs a {Json} (or Triton's {TextFormat})");
        }

        return hasJson ? json : text;
    }

    public static bool IsTextFormat(string path) => Path.GetFileName(path) == TextFormat;

    /// <summary>Reads <paramref name="text"/>, the contents of <paramref name="path"/>, as its file name says.</summary>
    public static ModelConfig Parse(string text, string path) =>
        IsTextFormat(path) ? ModelConfigReader.ParseTextFormat(text, path) : ModelConfigReader.Parse(text, path);
}
