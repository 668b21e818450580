using System.Runtime.InteropServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;

namespace LowLatency.Engine.Routing;

/// <summary>
/// A model's fixed fallback outputs, laid out once for the largest request (the configured row
/// repeated <c>max_batch_size</c> times) in native memory that lives as long as the process: a
/// request answered with it points its outputs at a prefix, as it would at a batch's output tensor.
/// Allocated per configuration load; small (rows × bytes per row), never freed (routing tables may
/// still hold it while a request reads it).
/// </summary>
public sealed unsafe class FixedAnswer
{
    private readonly byte*[] _data;
    private readonly int[] _rowBytes;

    internal FixedAnswer(ModelConfig config, IReadOnlyList<FixedOutput> outputs)
    {
        int rows = Math.Max(1, config.MaxBatchSize);
        _data = new byte*[config.Outputs.Count];
        _rowBytes = new int[config.Outputs.Count];
        foreach (var o in outputs)
        {
            var block = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(64, o.Row.Length * rows), 64);
            for (int r = 0; r < rows; r++)
            {
                o.Row.CopyTo(new Span<byte>(block + ((long)r * o.Row.Length), o.Row.Length));
            }

            _data[o.Index] = block;
            _rowBytes[o.Index] = o.Row.Length;
        }
    }

    /// <summary>Gives a validated request the fixed outputs for its rows.</summary>
    public void AnswerWith(InferenceRequest request)
    {
        request.Validate();
        var config = request.Config;
        for (int o = 0; o < _data.Length; o++)
        {
            // The degraded path is a cold one: a shape array per output is fine here.
            var dims = config.Outputs[o].Dims;
            var shape = new long[dims.Length + (config.Batched ? 1 : 0)];
            int rank = 0;
            if (config.Batched)
            {
                shape[rank++] = request.BatchSize;
            }

            foreach (var d in dims)
            {
                shape[rank++] = d;
            }

            int rows = config.Batched ? request.BatchSize : 1;
            if (request.OutputRequested(o))
            {
                request.SetOutput(o, shape, _data[o], _rowBytes[o] * rows);
            }
        }
    }
}
