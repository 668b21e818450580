using System.Text.Json.Nodes;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;

namespace LowLatency.Tests.Infrastructure;

/// <summary>
/// A temp repository holding the ctr-ranker as several versions (the same TorchScript file), with
/// config.json edited by the test: the model to test routing, reloads and breakers with.
/// </summary>
public sealed class CtrRepository : IDisposable
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");
    private readonly TempRepository _repo = new();

    public CtrRepository(string name = "ctr-ranker", int versions = 2, Action<JsonObject>? edit = null)
    {
        Name = name;
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")))!.AsObject();
        config["name"] = name;
        config["version_policy"] = JsonNode.Parse("""{ "all": {} }""");
        edit?.Invoke(config);
        for (int v = 1; v <= versions; v++)
        {
            _repo.AddModel(name, config.ToJsonString(), version: v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public string Root => _repo.Root;

    public string Name { get; }

    /// <summary>The golden answer of the batch-1 request.</summary>
    public static float Expected => (float)Golden.Expected[0].Values[0];

    /// <summary>Adds another model directory beside this one (for fallbacks), a copy of ctr-ranker under <paramref name="name"/>.</summary>
    public void AddCopy(string name, Action<JsonObject>? edit = null)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")))!.AsObject();
        config["name"] = name;
        edit?.Invoke(config);
        _repo.AddModel(name, config.ToJsonString());
    }

    public void WriteConfig(Action<JsonObject> edit, string? name = null)
    {
        string path = Path.Combine(Root, name ?? Name, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    /// <summary>Fills a request with the golden batch-1 ctr-ranker inputs.</summary>
    public static void Fill(InferenceRequest r)
    {
        var sparse = Golden.Request.Inputs[0].Values.Select(v => (long)v).ToArray();
        var dense = Golden.Request.Inputs[1].Values.Select(v => (float)v).ToArray();
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(sparse.AsSpan()).CopyTo(r.AddInput(0, TensorDataType.Int64, [1, 26]));
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(dense.AsSpan()).CopyTo(r.AddInput(1, TensorDataType.FP32, [1, 13]));
    }

    /// <summary>Routes and runs one golden request through the engine as the host does; returns where it went and how it ended.</summary>
    public static async Task<Sent> SendAsync(InferenceEngine engine, string model, string? key = null, string? version = null)
    {
        var status = engine.Route(model, version, key, out var routed, out var error);
        if (status != InferenceStatus.Ok)
        {
            return new Sent(status, null, default, error, float.NaN);
        }

        try
        {
            using var r = routed.Version.RentRequest();
            Fill(r);
            bool ok;
            if (routed.FixedAnswer is { } answer)
            {
                answer.AnswerWith(r);
                ok = true;
            }
            else
            {
                ok = await routed.Version.InferAsync(r);
            }

            float value = ok ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.OutputData(0))[0] : float.NaN;
            return new Sent(ok ? InferenceStatus.Ok : r.Status, routed.Version.Version, routed.Kind, r.Error, value) { Model = routed.Version.Config.Name };
        }
        finally
        {
            routed.Release();
        }
    }

    public void Dispose() => _repo.Dispose();
}
