using System.Text.Json;

namespace LowLatency.Tests.Infrastructure;

/// <summary>A golden case from <c>models/&lt;name&gt;/golden/</c>: a request and the outputs PyTorch computed for it.</summary>
public sealed record GoldenCase(string Model, string Case, InferDoc Request, IReadOnlyList<TensorDoc> Expected)
{
    public static GoldenCase Load(string model, string @case)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Models, model, "golden", @case + ".json")));
        var req = doc.RootElement.GetProperty("request");
        var inputs = req.GetProperty("inputs").EnumerateArray().Select(Wire.Tensor).ToList();
        var expected = doc.RootElement.GetProperty("expected_outputs").EnumerateArray().Select(Wire.Tensor).ToList();
        return new GoldenCase(model, @case, new InferDoc(req.GetProperty("id").GetString(), inputs), expected);
    }

    public static IEnumerable<object[]> All()
    {
        foreach (var dir in Directory.GetDirectories(RepoPaths.Models).Order(StringComparer.Ordinal))
        {
            string golden = Path.Combine(dir, "golden");
            if (!Directory.Exists(golden))
            {
                continue;
            }

            foreach (var f in Directory.GetFiles(golden, "*.json").Order(StringComparer.Ordinal))
            {
                yield return [Path.GetFileName(dir), Path.GetFileNameWithoutExtension(f)];
            }
        }
    }
}
