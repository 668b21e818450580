using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using TorchSharp;

namespace LowLatency.Tests.Engine;

/// <summary>
/// The executor on its own, on this test's thread: a batch is formed deterministically here, where
/// the end-to-end tests can only hope that concurrent requests meet in one.
/// </summary>
public sealed class BatchExecutorTests : IDisposable
{
    private readonly InferenceEngine _engine = new(new EngineOptions { ModelRepository = RepoPaths.Models });

    public BatchExecutorTests()
    {
        _engine.Scan();
        _engine.Load();
    }

    [Fact]
    public void Requests_of_mixed_lengths_padded_into_one_batch_each_get_their_unpadded_answer()
    {
        var cases = new[] { "single-len5", "single-len128", "batch4-padded", "single-len40" }.Select(c => GoldenCase.Load("text-encoder", c)).ToList();
        Run("text-encoder", cases);
    }

    [Fact]
    public void Requests_with_several_rows_each_get_their_own_rows()
    {
        var cases = new[] { "batch8", "batch1", "batch8" }.Select(c => GoldenCase.Load("ctr-ranker", c)).ToList();
        Run("ctr-ranker", cases);
    }

    [Fact]
    public void A_batch_of_images_matches_the_golden_outputs()
    {
        Run("image-classifier", [GoldenCase.Load("image-classifier", "batch3"), GoldenCase.Load("image-classifier", "batch1")]);
    }

    private void Run(string model, List<GoldenCase> cases)
    {
        Assert.True(_engine.TryGetModel(model, out var served));
        var version = served.Latest;
        var requests = cases.Select(c => Build(version, c.Request)).ToArray();
        using var script = TorchScriptModel.Load(Path.Combine(RepoPaths.Models, model, "1", "model.pt"), version.Config);
        using var executor = new BatchExecutor(version.Config, script);
        using (torch.inference_mode())
        {
            executor.Execute(requests);
        }

        for (int i = 0; i < cases.Count; i++)
        {
            var expected = cases[i].Expected[0];
            var actual = new TensorDoc(expected.Name, "FP32", requests[i].OutputShape(0).ToArray(), Wire.Decode("FP32", requests[i].OutputData(0).ToArray()));
            Wire.AssertClose(expected, actual);
            requests[i].Dispose();
        }
    }

    private static InferenceRequest Build(ModelVersion version, InferDoc doc)
    {
        var request = version.RentRequest();
        foreach (var t in doc.Inputs)
        {
            int index = version.Config.InputIndex(t.Name);
            Wire.Encode(t.Datatype, t.Values).CopyTo(request.AddInput(index, version.Config.Inputs[index].DataType, t.Shape));
        }

        request.Validate();
        return request;
    }

    public void Dispose() => _engine.Dispose();
}
