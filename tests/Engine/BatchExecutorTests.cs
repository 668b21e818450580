using LowLatency.Engine.Execution;
using LowLatency.Engine.Repository;
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

    // 0: the request owns its inputs (JSON's path); otherwise it borrows them from a body split into
    // buffers of that many bytes (MessagePack's path), the worker's one copy reading across buffers.
    [Theory]
    [InlineData(0)]
    [InlineData(4096)]
    [InlineData(13)]
    public void Requests_of_mixed_lengths_padded_into_one_batch_each_get_their_unpadded_answer(int segmentBytes)
    {
        var cases = new[] { "single-len5", "single-len128", "batch4-padded", "single-len40" }.Select(c => GoldenCase.Load("text-encoder", c)).ToList();
        Run("text-encoder", cases, segmentBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4096)]
    [InlineData(13)]
    public void Requests_with_several_rows_each_get_their_own_rows(int segmentBytes)
    {
        var cases = new[] { "batch8", "batch1", "batch8" }.Select(c => GoldenCase.Load("ctr-ranker", c)).ToList();
        Run("ctr-ranker", cases, segmentBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4096)]
    public void A_batch_of_images_matches_the_golden_outputs(int segmentBytes)
    {
        Run("image-classifier", [GoldenCase.Load("image-classifier", "batch3"), GoldenCase.Load("image-classifier", "batch1")], segmentBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4096)]
    public void A_request_alone_that_borrows_its_input_gets_the_golden_answer(int segmentBytes)
    {
        Run("ctr-ranker", [GoldenCase.Load("ctr-ranker", "batch8")], segmentBytes);
    }

    [Fact]
    public void Outputs_stay_valid_until_released_while_later_batches_run()
    {
        var version = Version("ctr-ranker");
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        using var script = TorchScriptModel.Load(Path.Combine(RepoPaths.Models, "ctr-ranker", "1", "model.pt"), version.Config);
        using var executor = new BatchExecutor(version.Config, script);
        using var inference = torch.inference_mode();
        InferenceRequest[] held = [Build(version, golden.Request, 4096), Build(version, golden.Request, 4096)];
        executor.Execute(held);
        for (int k = 0; k < 20; k++)
        {
            InferenceRequest[] next = [Build(version, golden.Request, 4096), Build(version, golden.Request, 0)];
            executor.Execute(next);
            foreach (var r in next)
            {
                r.Dispose();
            }
        }

        // Every later batch found a free holder: the first batch's outputs were never reused under it.
        Assert.Equal(2, executor.OutputHolders);
        foreach (var r in held)
        {
            Wire.AssertClose(golden.Expected[0], new TensorDoc("probability", "FP32", r.OutputShape(0).ToArray(), Wire.Decode("FP32", r.OutputData(0).ToArray())));
        }

        held[0].ReleaseOutputs();
        Assert.NotEqual(0, held[1].OutputData(0).Length);
        held[1].Dispose();
        held[0].Dispose();
        InferenceRequest[] last = [Build(version, golden.Request, 0), Build(version, golden.Request, 0)];
        executor.Execute(last);
        Assert.Equal(2, executor.OutputHolders);
        foreach (var r in last)
        {
            r.Dispose();
        }
    }

    [Fact]
    public void A_model_that_returns_its_input_answers_from_a_copy_not_from_the_reused_batch_buffer()
    {
        using var engine = Serve(Path.Combine(RepoPaths.Root, "perf", "models"), "identity", out var version, out var script);
        using var _ = script;
        using var executor = new BatchExecutor(version.Config, script);
        using var inference = torch.inference_mode();
        InferenceRequest[] first = [Identity(version, 1f, 2, 0), Identity(version, 2f, 1, 4096)];
        executor.Execute(first);
        // Same rows, other values: the arena (and the cached view over it) is rewritten.
        InferenceRequest[] second = [Identity(version, 7f, 2, 4096), Identity(version, 8f, 1, 0)];
        executor.Execute(second);
        InferenceRequest[] alone = [Identity(version, 9f, 3, 0)];
        executor.Execute(alone);
        AssertAll(first[0], 1f, 2);
        AssertAll(first[1], 2f, 1);
        AssertAll(second[0], 7f, 2);
        AssertAll(second[1], 8f, 1);
        AssertAll(alone[0], 9f, 3);
        foreach (var r in first.Concat(second).Concat(alone))
        {
            r.Dispose();
        }

        static void AssertAll(InferenceRequest r, float value, int rows)
        {
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.OutputData(0));
            Assert.Equal(rows * 16, values.Length);
            foreach (var v in values)
            {
                Assert.Equal(value, v);
            }
        }
    }

    [Fact]
    public void A_strided_output_is_copied_into_the_holders_preallocated_buffer_and_served_from_there()
    {
        using var engine = Serve(Path.Combine(RepoPaths.Root, "tests", "models"), "strided", out var version, out var script);
        using var _ = script;
        long before = script.Handles.Live;
        var executor = new BatchExecutor(version.Config, script);
        using var inference = torch.inference_mode();
        var held = new List<InferenceRequest>();
        for (int round = 0; round < 3; round++)
        {
            // Two rows then one, then the same again: the second round reuses the first holder's
            // buffer and its view for 3 rows, while the first round's requests still hold theirs.
            InferenceRequest[] batch = [Strided(version, round * 100, 2), Strided(version, (round * 100) + 50, 1)];
            executor.Execute(batch);
            held.AddRange(batch);
            if (round == 1)
            {
                Assert.Equal(2, executor.OutputHolders);
                foreach (var r in held)
                {
                    AssertTransposedDouble(r);
                    r.Dispose();
                }

                held.Clear();
            }
        }

        foreach (var r in held)
        {
            AssertTransposedDouble(r);
            r.Dispose();
        }

        // Made once per holder: still two holders after the third batch, whose outputs went into a free one.
        Assert.Equal(2, executor.OutputHolders);
        // The buffers and views count as the version's native handles, and go with the executor.
        Assert.True(script.Handles.Live > before);
        executor.Dispose();
        Assert.Equal(before, script.Handles.Live);

        static void AssertTransposedDouble(InferenceRequest r)
        {
            int rows = (int)r.OutputShape(0)[0];
            Assert.Equal([rows, 3L, 4L], r.OutputShape(0).ToArray());
            var input = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(System.Buffers.BuffersExtensions.ToArray(r.InputSource(0)));
            var output = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.OutputData(0));
            for (int b = 0; b < rows; b++)
            {
                for (int i = 0; i < 4; i++)
                {
                    for (int j = 0; j < 3; j++)
                    {
                        Assert.Equal(2 * input[(b * 12) + (i * 3) + j], output[(b * 12) + (j * 4) + i]);
                    }
                }
            }
        }
    }

    /// <summary>An engine serving <paramref name="repository"/>, and a second, standalone load of <paramref name="model"/>'s script for an executor of the test's own.</summary>
    private static InferenceEngine Serve(string repository, string model, out ModelVersion version, out TorchScriptModel script)
    {
        var engine = new InferenceEngine(new EngineOptions { ModelRepository = repository });
        engine.Scan();
        engine.Load();
        Assert.True(engine.TryGetModel(model, out var served));
        version = served.Latest;
        script = TorchScriptModel.Load(Path.Combine(repository, model, "1", "model.pt"), version.Config);
        return engine;
    }

    private static InferenceRequest Strided(ModelVersion version, int first, int rows)
    {
        var values = Enumerable.Range(first, rows * 12).Select(v => (double)v).ToArray();
        return Build(version, new InferDoc(null, [new TensorDoc("x", "FP32", [rows, 4, 3], values)], null), 0);
    }

    private static InferenceRequest Identity(ModelVersion version, float value, int rows, int segmentBytes)
    {
        var values = Enumerable.Repeat((double)value, rows * 16).ToArray();
        return Build(version, new InferDoc(null, [new TensorDoc("x", "FP32", [rows, 16], values)], null), segmentBytes);
    }

    private ModelVersion Version(string model)
    {
        Assert.True(_engine.TryGetModel(model, out var served));
        return served.Latest;
    }

    private void Run(string model, List<GoldenCase> cases, int segmentBytes)
    {
        var version = Version(model);
        var requests = cases.Select(c => Build(version, c.Request, segmentBytes)).ToArray();
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

    private static InferenceRequest Build(ModelVersion version, InferDoc doc, int segmentBytes)
    {
        var request = version.RentRequest();
        foreach (var t in doc.Inputs)
        {
            int index = version.Config.InputIndex(t.Name);
            var type = version.Config.Inputs[index].DataType;
            byte[] bytes = Wire.Encode(t.Datatype, t.Values);
            if (segmentBytes == 0)
            {
                bytes.CopyTo(request.AddInput(index, type, t.Shape));
            }
            else
            {
                request.AddInput(index, type, t.Shape, Segmented.Of(bytes, segmentBytes));
            }
        }

        request.Validate();
        return request;
    }

    public void Dispose() => _engine.Dispose();
}
