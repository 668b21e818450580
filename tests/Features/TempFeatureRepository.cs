using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Features;

/// <summary>A copy of the example feature repository (feature_repo/) in a temp folder, to change file by file.</summary>
public sealed class TempFeatureRepository : IDisposable
{
    public TempFeatureRepository(bool copyExample = true)
    {
        Root = Path.Combine(Path.GetTempPath(), "ll-features-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        if (copyExample)
        {
            foreach (var file in Directory.GetFiles(Example, "*.json"))
            {
                File.Copy(file, Path.Combine(Root, Path.GetFileName(file)));
            }
        }
    }

    public static string Example => Path.Combine(RepoPaths.Root, "feature_repo");

    public string Root { get; }

    public void Write(string file, string text) => File.WriteAllText(Path.Combine(Root, file), text);

    /// <summary>Changes one file's JSON in place.</summary>
    public void Edit(string file, Action<JsonNode> change)
    {
        string path = Path.Combine(Root, file);
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        change(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
