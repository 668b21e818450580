using LowLatency.Engine.Config;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// One model input as a device worker's executor lays it out: the native arena its rows are
/// gathered into, with the views over it, the shape of the batch being run and of one request's
/// part of it, and where its bytes lie for that batch. Used only from the worker's thread.
/// </summary>
internal sealed class InputSlot
{
    public InputSlot(ModelConfig config, TensorConfig spec, NativeHandleCount handles)
    {
        Spec = spec;
        Type = spec.DataType.ToTorch();
        ElementSize = spec.DataType.ElementSize();
        int maxRows = Math.Max(1, config.MaxBatchSize);
        int rank = (config.Batched ? 1 : 0) + spec.Dims.Length;

        // Sized once for the largest batch the config allows: the arena never grows with fixed
        // shapes, or with variable ones bounded by max_variable_dim.
        Arena = new ArenaViews(TensorLayout.SampleBytes(config, spec, out bool fixedShape) * maxRows, maxRows, Type, handles);
        FixedShape = fixedShape;
        BatchShape = new long[rank];
        PartShape = new long[rank];
    }

    public TensorConfig Spec { get; }

    public torch.ScalarType Type { get; }

    public int ElementSize { get; }

    public ArenaViews Arena { get; }

    /// <summary>Whether the row count alone fixes the shape: its arena views are then made once per row count.</summary>
    public bool FixedShape { get; }

    /// <summary>The shape of the batch being run (rows, then the largest of each other dimension).</summary>
    public long[] BatchShape { get; }

    /// <summary>One request's destination within the batch: its rows of the batch's row shape.</summary>
    public long[] PartShape { get; }

    /// <summary>Where the batch's bytes of this input lie: the arena, or the one request's own buffer.</summary>
    public InputRange Range { get; set; }
}
