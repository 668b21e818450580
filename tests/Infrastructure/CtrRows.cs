using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;

namespace LowLatency.Tests.Infrastructure;

/// <summary>ctr-ranker requests built from rows of its golden batch of 8, and their answers checked against it.</summary>
internal static class CtrRows
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch8");

    /// <summary>An engine over the embedded repository, scanned and loaded with <paramref name="options"/>.</summary>
    public static InferenceEngine StartEngine(EngineOptions options)
    {
        var engine = new InferenceEngine(options);
        engine.Scan();
        engine.Load();
        return engine;
    }

    /// <summary>The served ctr-ranker's latest version.</summary>
    public static ModelVersion Latest(InferenceEngine engine)
    {
        Assert.True(engine.TryGetModel("ctr-ranker", out var served));
        return served.Latest;
    }

    /// <summary>A request of <paramref name="rows"/> rows taken from the golden batch starting at <paramref name="first"/>.</summary>
    public static InferenceRequest Build(ModelVersion model, int first, int rows, bool borrowed = false)
    {
        var r = model.RentRequest();
        var sparse = Golden.Request.Inputs[0].Values;
        var dense = Golden.Request.Inputs[1].Values;
        var ids = new long[rows * 26];
        var features = new float[rows * 13];
        for (int k = 0; k < rows; k++)
        {
            int row = (first + k) % 8;
            for (int j = 0; j < 26; j++)
            {
                ids[(k * 26) + j] = (long)sparse[(row * 26) + j];
            }

            for (int j = 0; j < 13; j++)
            {
                features[(k * 13) + j] = (float)dense[(row * 13) + j];
            }
        }

        var idBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan());
        var featureBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(features.AsSpan());
        if (borrowed)
        {
            // As from a MessagePack body: the worker copies straight from these buffers into the batch.
            r.AddInput(0, TensorDataType.Int64, [rows, 26], Segmented.Of(idBytes, 100));
            r.AddInput(1, TensorDataType.FP32, [rows, 13], Segmented.Of(featureBytes, 100));
        }
        else
        {
            idBytes.CopyTo(r.AddInput(0, TensorDataType.Int64, [rows, 26]));
            featureBytes.CopyTo(r.AddInput(1, TensorDataType.FP32, [rows, 13]));
        }

        return r;
    }

    public static void AssertRows(InferenceRequest r, int first, int rows)
    {
        Assert.Equal(InferenceStatus.Ok, r.Status);
        Assert.Equal([rows, 1L], r.OutputShape(0).ToArray());
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.OutputData(0));
        for (int k = 0; k < rows; k++)
        {
            double expected = Golden.Expected[0].Values[(first + k) % 8];
            Assert.True(Math.Abs(expected - values[k]) <= 1e-5 + (1e-4 * Math.Abs(expected)), $"row {k}: {values[k]} vs {expected}");
        }
    }
}
