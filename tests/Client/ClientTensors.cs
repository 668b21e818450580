using LowLatency.Client;
using LowLatency.Tests.Infrastructure;
using InferResult = LowLatency.Client.InferResult;

namespace LowLatency.Tests.Client;

/// <summary>The tests' tensors (<see cref="TensorDoc"/>) as the client's inputs, and the client's outputs back as tensors.</summary>
internal static class ClientTensors
{
    public static InferInput Input(TensorDoc t) => t.Datatype switch
    {
        "INT64" => InferInput.Create(t.Name, t.Values.Select(v => (long)v).ToArray(), t.Shape),
        "INT32" => InferInput.Create(t.Name, t.Values.Select(v => (int)v).ToArray(), t.Shape),
        "FP32" => InferInput.Create(t.Name, t.Values.Select(v => (float)v).ToArray(), t.Shape),
        "FP64" => InferInput.Create(t.Name, t.Values.ToArray(), t.Shape),
        _ => throw new NotSupportedException(t.Datatype),
    };

    public static InferInput[] Inputs(InferDoc doc) => [.. doc.Inputs.Select(Input)];

    public static InferOptions Options(InferDoc doc) => new() { RequestId = doc.Id, Outputs = doc.Outputs };

    public static TensorDoc Doc(InferOutput o)
    {
        double[] values = o.Datatype switch
        {
            TensorDatatype.FP32 => [.. o.As<float>().ToArray().Select(v => (double)v)],
            TensorDatatype.FP64 => o.As<double>().ToArray(),
            TensorDatatype.Int64 => [.. o.As<long>().ToArray().Select(v => (double)v)],
            TensorDatatype.Int32 => [.. o.As<int>().ToArray().Select(v => (double)v)],
            _ => throw new NotSupportedException(o.Datatype.ToString()),
        };
        return new TensorDoc(o.Name, TensorDatatypes.Name(o.Datatype), o.Shape.ToArray(), values);
    }

    /// <summary>The request <paramref name="times"/> times over in one batch: each input's rows repeated, batch dimension multiplied.</summary>
    public static InferDoc Stacked(InferDoc doc, int times) => doc with
    {
        Id = doc.Id + "-x" + times,
        Inputs = [.. doc.Inputs.Select(t => Stacked(t, times))],
    };

    public static TensorDoc Stacked(TensorDoc t, int times) =>
        t with { Shape = [t.Shape[0] * times, .. t.Shape[1..]], Values = [.. Enumerable.Repeat(t.Values, times).SelectMany(v => v)] };

    /// <summary>Asserts the answer holds exactly the expected outputs, in order, within the golden tolerance.</summary>
    public static void AssertOutputs(IReadOnlyList<TensorDoc> expected, InferResult result)
    {
        Assert.Equal(expected.Count, result.OutputCount);
        for (int i = 0; i < expected.Count; i++)
        {
            Wire.AssertClose(expected[i], Doc(result[i]));
        }
    }
}
