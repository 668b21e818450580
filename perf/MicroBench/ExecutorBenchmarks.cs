using System.Buffers;
using BenchmarkDotNet.Attributes;
using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using TorchSharp;

namespace LowLatency.MicroBench;

/// <summary>
/// One batch through the executor on the benchmark thread: gather the borrowed inputs into the arena,
/// run the TorchScript module, hand out output views. Nothing managed per batch: when the module was
/// called through TorchSharp's ScriptModule.call, its dispose scope and tensor wrappers allocated
/// 640–700 B here.
/// </summary>
public class ExecutorBenchmarks
{
    private readonly InferenceRequest[] _identity = new InferenceRequest[1];
    private readonly InferenceRequest[] _ctr = new InferenceRequest[16];
    private BatchExecutor _identityExecutor = null!;
    private BatchExecutor _ctrExecutor = null!;
    private TorchScriptModel _identityModel = null!;
    private TorchScriptModel _ctrModel = null!;
    private byte[] _identityBody = null!;
    private byte[] _sparseBody = null!;
    private byte[] _denseBody = null!;
    private IDisposable _inference = null!;

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.Initialize(1);
        // Grad mode and the intra-op thread count are per thread in libtorch: set on this one.
        _inference = torch.inference_mode();
        torch.set_num_threads(1);
        var identity = Repo.Config("identity");
        var ctr = Repo.Config("ctr-ranker");
        _identityModel = TorchScriptModel.Load(Repo.ModelFile("identity"), identity);
        _ctrModel = TorchScriptModel.Load(Repo.ModelFile("ctr-ranker"), ctr);
        _identityExecutor = new BatchExecutor(identity, _identityModel);
        _ctrExecutor = new BatchExecutor(ctr, _ctrModel);
        _identityBody = new byte[16 * sizeof(float)];
        _sparseBody = new byte[26 * sizeof(long)];
        _denseBody = new byte[13 * sizeof(float)];
        _identity[0] = new InferenceRequest(identity);
        for (int i = 0; i < _ctr.Length; i++)
        {
            _ctr[i] = new InferenceRequest(ctr);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _identityExecutor.Dispose();
        _ctrExecutor.Dispose();
        _identityModel.Dispose();
        _ctrModel.Dispose();
        _inference.Dispose();
    }

    [Benchmark]
    [AllocationBudget(0, "the module called through LibTorchSharp with a stack argument array and a per-thread result block; tensors as bare handles (the output, a view of the input, is copied into a preallocated buffer)")]
    public void IdentityBatchOf1()
    {
        var r = _identity[0];
        r.OnRent();
        r.AddInput(0, TensorDataType.FP32, [1, 16], new ReadOnlySequence<byte>(_identityBody));
        r.Validate();
        _identityExecutor.Execute(_identity);
        r.Dispose();
    }

    [Benchmark]
    [AllocationBudget(8, "nothing per batch, nothing per request; 1-2 B/op appear only when another case ran before it in this process (0 alone; its own thread allocates 0, ScriptAnswerTests), source not found; the smallest object is 24 B")]
    public void CtrBatchOf16()
    {
        foreach (var r in _ctr)
        {
            r.OnRent();
            r.AddInput(0, TensorDataType.Int64, [1, 26], new ReadOnlySequence<byte>(_sparseBody));
            r.AddInput(1, TensorDataType.FP32, [1, 13], new ReadOnlySequence<byte>(_denseBody));
            r.Validate();
        }

        _ctrExecutor.Execute(_ctr);
        foreach (var r in _ctr)
        {
            r.Dispose();
        }
    }
}
