namespace LowLatency.Tests.Infrastructure;

/// <summary>A throwaway model repository in a temp folder.</summary>
public sealed class TempRepository : IDisposable
{
    public TempRepository()
    {
        Root = Path.Combine(Path.GetTempPath(), "ll-repo-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public void AddModel(string name, string config, byte[]? modelFile = null, string version = "1")
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.Combine(dir, version));
        File.WriteAllText(Path.Combine(dir, "config.json"), config);
        File.WriteAllBytes(Path.Combine(dir, version, "model.pt"), modelFile ?? File.ReadAllBytes(Path.Combine(RepoPaths.Models, "ctr-ranker", "1", "model.pt")));
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
