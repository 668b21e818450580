using System.Globalization;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;

namespace LowLatency.Engine.Serving;

/// <summary>One loaded version of a model: the TorchScript module, its queue and its device workers.</summary>
public sealed class ModelVersion : IDisposable
{
    private readonly TorchScriptModel _model;
    private readonly RequestQueue _queue = new();
    private readonly DeviceWorker[] _workers;
    private volatile bool _stopped;

    internal ModelVersion(ModelConfig config, long version, TorchScriptModel model)
    {
        Config = config;
        Version = version;
        VersionString = version.ToString(CultureInfo.InvariantCulture);
        _model = model;
        var workers = new List<DeviceWorker>();
        foreach (var group in config.InstanceGroups)
        {
            for (int i = 0; i < group.Count; i++)
            {
                // Thread names show up in dotnet-trace and top -H: say which model and instance.
                workers.Add(new DeviceWorker(config, model, _queue, $"ll-{config.Name}-v{version}-{workers.Count}"));
            }
        }

        _workers = [.. workers];
        _queue.Attach(_workers);
        foreach (var w in _workers)
        {
            w.Start();
        }
    }

    public ModelConfig Config { get; }

    public long Version { get; }

    public string VersionString { get; }

    public InferenceRequest CreateRequest() => new(this);

    /// <summary>
    /// Validates and submits the request; completes when it is answered. Throws
    /// <see cref="InferenceException"/> for a request that fails validation.
    /// </summary>
    public ValueTask<bool> InferAsync(InferenceRequest request)
    {
        request.Validate();
        if (_stopped)
        {
            ThrowUnavailable();
        }

        _queue.Enqueue(request);
        return request.Completion;
    }

    /// <summary>
    /// Runs a request of ones (a valid token id and an attention mask that attends, for the text
    /// models; a plain input elsewhere) at batch size 1, so the first real request is not the slow one
    /// and a model that cannot run at all fails at load, not at the first request.
    /// </summary>
    internal void WarmUp()
    {
        using var request = CreateRequest();
        var shape = new List<long>();
        for (int i = 0; i < Config.Inputs.Count; i++)
        {
            shape.Clear();
            if (Config.Batched)
            {
                shape.Add(1);
            }

            foreach (var d in Config.Inputs[i].Dims)
            {
                shape.Add(d < 0 ? 1 : d);
            }

            FillOnes(request.AddInput(i, Config.Inputs[i].DataType, shape.ToArray()), Config.Inputs[i].DataType);
        }

        var done = InferAsync(request).AsTask().GetAwaiter().GetResult();
        if (!done && request.Status == InferenceStatus.ModelError)
        {
            throw new ModelConfigException(_model.Path, $"warm-up with inputs of ones failed: {request.Error}");
        }
    }

    private static void FillOnes(Span<byte> data, TensorDataType type)
    {
        Span<byte> one = stackalloc byte[8];
        one.Clear();
        switch (type)
        {
            case TensorDataType.FP16:
                System.Runtime.InteropServices.MemoryMarshal.Write(one, (Half)1);
                break;
            case TensorDataType.BF16:
                System.Runtime.InteropServices.MemoryMarshal.Write(one, (ushort)0x3F80);
                break;
            case TensorDataType.FP32:
                System.Runtime.InteropServices.MemoryMarshal.Write(one, 1f);
                break;
            case TensorDataType.FP64:
                System.Runtime.InteropServices.MemoryMarshal.Write(one, 1d);
                break;
            default:
                one[0] = 1;
                break;
        }

        int size = type.ElementSize();
        for (int i = 0; i + size <= data.Length; i += size)
        {
            one[..size].CopyTo(data[i..]);
        }
    }

    /// <summary>Refuses new requests, answers every queued one, then stops the workers.</summary>
    public void Stop()
    {
        _stopped = true;
        foreach (var w in _workers)
        {
            w.Stop();
        }
    }

    public void Dispose()
    {
        Stop();
        foreach (var w in _workers)
        {
            w.Dispose();
        }

        _model.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnavailable() => throw new InferenceException(InferenceStatus.Unavailable, $"model '{Config.Name}' version {VersionString} is shutting down");
}
