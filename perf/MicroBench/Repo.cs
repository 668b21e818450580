using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;

namespace LowLatency.MicroBench;

/// <summary>The repository's models, found from wherever BenchmarkDotNet runs the benchmarks.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static ModelConfig Config(string model) => ModelConfigReader.Read(Path.Combine(ModelDir(model), "config.json"));

    /// <summary>Puts a config-only ctr-ranker request back in use with one row of (owned) inputs.</summary>
    public static void RentCtrRow(InferenceRequest r)
    {
        r.OnRent();
        r.AddInput(0, TensorDataType.Int64, [1, 26]);
        r.AddInput(1, TensorDataType.FP32, [1, 13]);
        r.Validate();
    }

    public static string ModelFile(string model) => Path.Combine(ModelDir(model), "1", "model.pt");

    private static string ModelDir(string model) => model == "identity"
        ? Path.Combine(Root, "perf", "models", model)
        : Path.Combine(Root, "models", model);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LowLatency.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("LowLatency.sln not found above " + AppContext.BaseDirectory);
    }
}
