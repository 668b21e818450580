using LowLatency.Engine.Config;
using LowLatency.Native.Torch;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// One model output as a device worker's executor serves it: the shape the model returned for the
/// batch being run and one request's part of it, the tensor it is served from, and whether that is
/// the model's own tensor or a copy in the output holder's buffer. Used only from the worker's thread.
/// </summary>
internal sealed class OutputSlot
{
    public OutputSlot(ModelConfig config, TensorConfig spec)
    {
        Spec = spec;
        Type = spec.DataType.ToTorch();
        int rank = (config.Batched ? 1 : 0) + spec.Dims.Length;
        Capacity = TensorLayout.SampleBytes(config, spec, out bool fixedShape) * Math.Max(1, config.MaxBatchSize);
        FixedShape = fixedShape;
        Shape = new long[rank];
        PartShape = new long[rank];
    }

    public TensorConfig Spec { get; }

    public torch.ScalarType Type { get; }

    /// <summary>Bytes of its largest batch: the size of a holder's buffer for it, should it need one.</summary>
    public long Capacity { get; }

    /// <summary>Whether the row count alone fixes the shape: a buffer's views are then made once per row count.</summary>
    public bool FixedShape { get; }

    /// <summary>The shape the model returned for the batch being run.</summary>
    public long[] Shape { get; }

    /// <summary>One request's rows of <see cref="Shape"/>.</summary>
    public long[] PartShape { get; }

    /// <summary>The tensor the batch's answers are read from (this batch only).</summary>
    public TensorHandle Served { get; set; }

    /// <summary>Whether <see cref="Served"/> is the model's own tensor, which a holder then owns; otherwise a copy in the holder's buffer.</summary>
    public bool Owned { get; set; }

    /// <summary>The batch's bytes of this output.</summary>
    public long Bytes { get; set; }
}
