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

    /// <summary>Adds a model: <paramref name="config"/> written as <paramref name="configFile"/> (config.json, or config.pbtxt), the ctr-ranker's TorchScript unless <paramref name="modelFile"/> is given.</summary>
    public void AddModel(string name, string config, byte[]? modelFile = null, string version = "1", string configFile = "config.json")
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.Combine(dir, version));
        File.WriteAllText(Path.Combine(dir, configFile), config);
        File.WriteAllBytes(Path.Combine(dir, version, "model.pt"), modelFile ?? File.ReadAllBytes(Path.Combine(RepoPaths.Models, "ctr-ranker", "1", "model.pt")));
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
