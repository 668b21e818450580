using System.Buffers;
using System.Runtime.InteropServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Tests.Infrastructure;
using TorchSharp;

namespace LowLatency.Tests.Engine;

/// <summary>
/// What a TorchScript module may answer, read through LibTorchSharp's entry points without
/// TorchSharp's wrappers: a tensor, or a tuple or list of tensors in the configuration's output
/// order; anything else is refused by name. And a batch through the executor allocates nothing on
/// the managed heap (TorchSharp's <c>ScriptModule.call</c> allocated ~640 B per batch, part of it
/// finalizable, which made every collection slow).
/// </summary>
public sealed class ScriptAnswerTests : IDisposable
{
    private readonly IDisposable _inference;

    public ScriptAnswerTests()
    {
        TorchRuntime.Initialize(1);
        _inference = torch.inference_mode();
    }

    [Theory]
    [InlineData("pair")]
    [InlineData("pair-list")]
    public void Each_tensor_of_a_tuple_or_list_answer_is_served_as_its_output_in_order(string script)
    {
        using var served = Served.Load(script, ("y0", "TYPE_FP32"), ("y1", "TYPE_FP32"));
        var (config, executor) = (served.Config, served.Executor);
        var (first, second) = script == "pair" ? (2f, 1f) : (1f, 3f);
        InferenceRequest[] batch = [Request(config, 1f, rows: 2), Request(config, 5f, rows: 1)];
        executor.Execute(batch);

        // pair: (x * 2, x + 1); pair-list: [x + 1, x * 3].
        AssertRows(batch[0], 1f, 2, script == "pair" ? (1f * first, 1f + second) : (1f + first, 1f * second));
        AssertRows(batch[1], 5f, 1, script == "pair" ? (5f * first, 5f + second) : (5f + first, 5f * second));
        foreach (var r in batch)
        {
            r.Dispose();
        }

        static void AssertRows(InferenceRequest r, float input, int rows, (float Y0, float Y1) expected)
        {
            Assert.Equal([rows, 4L], r.OutputShape(0).ToArray());
            Assert.Equal([rows, 4L], r.OutputShape(1).ToArray());
            Assert.All(MemoryMarshal.Cast<byte, float>(r.OutputData(0)).ToArray(), v => Assert.Equal(expected.Y0, v));
            Assert.All(MemoryMarshal.Cast<byte, float>(r.OutputData(1)).ToArray(), v => Assert.Equal(expected.Y1, v));
            _ = input;
        }
    }

    [Fact]
    public void An_answer_that_is_not_only_tensors_is_refused_by_name_and_the_executor_goes_on()
    {
        using var served = Served.Load("tensor-and-count", ("y0", "TYPE_FP32"), ("y1", "TYPE_FP32"));
        var (config, executor) = (served.Config, served.Executor);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            InferenceRequest[] batch = [Request(config, 1f, rows: 1)];
            var e = Assert.Throws<InvalidOperationException>(() => executor.Execute(batch));
            Assert.Equal("the model returned a tuple that holds more than tensors, not a tensor or a tuple or list of tensors", e.Message);
            // Refused before any output holder was taken: nothing for a request to hold.
            Assert.Equal(0, executor.OutputHolders);
            batch[0].Dispose();
        }
    }

    // "pair" answers two FP32 tensors: a configuration naming one output, or typing the second INT64.
    [Theory]
    [InlineData(new[] { "TYPE_FP32" }, "the model returned 2 outputs, its configuration names 1")]
    [InlineData(new[] { "TYPE_FP32", "TYPE_INT64" }, "output 'y1' is Float32, its configuration says TYPE_INT64")]
    public void An_answer_other_than_configured_is_refused_naming_both_sides(string[] outputTypes, string message)
    {
        using var served = Served.Load("pair", outputTypes.Select((type, i) => ("y" + i, type)).ToArray());
        var (config, executor) = (served.Config, served.Executor);
        InferenceRequest[] batch = [Request(config, 1f, rows: 1)];
        var e = Assert.Throws<InvalidOperationException>(() => executor.Execute(batch));
        Assert.Equal(message, e.Message);
        batch[0].Dispose();
    }

    [Fact]
    public void A_batch_allocates_nothing_on_the_managed_heap_in_steady_state()
    {
        // Both ways in: a request alone with inputs it owns (views of them, made and dropped per
        // batch), and requests that borrow their bytes (gathered into the arena, cached views); the
        // output of "pair" is served where the model left it.
        using var served = Served.Load("pair", ("y0", "TYPE_FP32"), ("y1", "TYPE_FP32"));
        var (config, executor) = (served.Config, served.Executor);
        var owned = new[] { Request(config, 1f, rows: 1) };
        var body = new byte[2 * 4 * sizeof(float)];
        // Made once: in a Debug build a collection expression per call allocates (72 B), which is
        // the test's own cost, not the engine's.
        long[] shape = [2, 4];
        var borrowed = new[] { new InferenceRequest(config), new InferenceRequest(config) };
        for (int i = 0; i < 100; i++)
        {
            Batches();
        }

        // The least of three rounds: an allocation per batch shows in every round, while the
        // thread's count once moved by 6 KB in one round of a full test run (other tests running
        // and collecting beside it) and never again in that run or alone.
        long allocated = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 500; i++)
            {
                Batches();
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        // 1,000 batches a round: a single allocation per batch would be 24 000 bytes or more.
        Assert.True(allocated < 1000, $"{allocated} bytes allocated in 1,000 batches (the least of three rounds)");

        owned[0].Dispose();

        void Batches()
        {
            executor.Execute(owned);
            owned[0].ReleaseOutputs();
            foreach (var r in borrowed)
            {
                r.OnRent();
                r.AddInput(0, TensorDataType.FP32, shape, new ReadOnlySequence<byte>(body));
                r.Validate();
            }

            executor.Execute(borrowed);
            foreach (var r in borrowed)
            {
                r.Dispose();
            }
        }
    }

    [Fact]
    public void A_threads_first_batch_allocates_nothing_on_the_managed_heap_either()
    {
        // A new worker thread's first batch must not show in the allocation budgets either: a
        // managed per-thread result block (880 B) and TorchSharp's CheckForErrors (672 B on a
        // thread's first call) each did, as 1–2 B per batch in BenchmarkDotNet's run.
        using var served = Served.Load("pair", ("y0", "TYPE_FP32"), ("y1", "TYPE_FP32"));
        var (config, executor) = (served.Config, served.Executor);
        var owned = new[] { Request(config, 2f, rows: 1) };
        for (int i = 0; i < 20; i++)
        {
            executor.Execute(owned);
            owned[0].ReleaseOutputs();
        }

        long allocated = -1;
        var thread = new Thread(() =>
        {
            using var inference = torch.inference_mode();
            long before = GC.GetAllocatedBytesForCurrentThread();
            executor.Execute(owned);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            owned[0].ReleaseOutputs();
        });
        thread.Start();
        thread.Join();
        Assert.Equal(0, allocated);
        owned[0].Dispose();
    }

    /// <summary>A test script loaded with a configuration of one FP32 input "x" [4] and the given outputs, and an executor over it.</summary>
    private sealed class Served : IDisposable
    {
        private readonly TorchScriptModel _model;

        private Served(ModelConfig config, TorchScriptModel model)
        {
            Config = config;
            _model = model;
            Executor = new BatchExecutor(config, model);
        }

        public ModelConfig Config { get; }

        public BatchExecutor Executor { get; }

        public static Served Load(string script, params (string Name, string Type)[] outputs)
        {
            var config = Config(script, outputs);
            return new Served(config, TorchScriptModel.Load(ScriptPath(script), config));
        }

        public void Dispose()
        {
            Executor.Dispose();
            _model.Dispose();
        }
    }

    private static string ScriptPath(string name) => Path.Combine(RepoPaths.Root, "tests", "scripts", name + ".pt");

    private static ModelConfig Config(string name, params (string Name, string Type)[] outputs)
    {
        string outs = string.Join(", ", outputs.Select(o => $$"""{ "name": "{{o.Name}}", "data_type": "{{o.Type}}", "dims": [4] }"""));
        return ModelConfigReader.Parse($$"""
            {
              "name": "{{name}}", "platform": "pytorch_libtorch", "max_batch_size": 8,
              "input": [{ "name": "x", "data_type": "TYPE_FP32", "dims": [4] }],
              "output": [{{outs}}]
            }
            """, name + ".json");
    }

    private static InferenceRequest Request(ModelConfig config, float value, int rows)
    {
        var r = new InferenceRequest(config);
        r.OnRent();
        MemoryMarshal.Cast<byte, float>(r.AddInput(0, TensorDataType.FP32, [rows, 4])).Fill(value);
        r.Validate();
        return r;
    }

    public void Dispose() => _inference.Dispose();
}
