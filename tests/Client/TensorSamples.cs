using System.Runtime.InteropServices;
using LowLatency.Client;

namespace LowLatency.Tests.Client;

/// <summary>A tensor of every datatype, as the client's input and as the bytes it must put on the wire.</summary>
internal static class TensorSamples
{
    public static readonly TensorDatatype[] All = Enum.GetValues<TensorDatatype>();

    /// <summary>The protocol's name of a datatype (<c>FP32</c>).</summary>
    public static string Name(TensorDatatype type) => TensorDatatypes.Name(type);

    public static (InferInput Input, byte[] Bytes) Of(TensorDatatype type, string name, int elements, int seed = 1)
    {
        var random = new Random(seed);
        long[] shape = elements == 0 ? [0, 4] : [1, elements];
        return type switch
        {
            TensorDatatype.Bool => Make(Enumerable.Range(0, elements).Select(i => i % 3 == 0).ToArray()),
            TensorDatatype.UInt8 => Make(Enumerable.Range(0, elements).Select(i => (byte)random.Next(256)).ToArray()),
            TensorDatatype.Int8 => Make(Enumerable.Range(0, elements).Select(i => (sbyte)random.Next(-128, 128)).ToArray()),
            TensorDatatype.Int16 => Make(Enumerable.Range(0, elements).Select(i => (short)random.Next(short.MinValue, short.MaxValue)).ToArray()),
            TensorDatatype.Int32 => Make(Enumerable.Range(0, elements).Select(i => random.Next(int.MinValue, int.MaxValue)).ToArray()),
            TensorDatatype.Int64 => Make(Enumerable.Range(0, elements).Select(i => random.NextInt64(long.MinValue, long.MaxValue)).ToArray()),
            TensorDatatype.FP16 => Make(Enumerable.Range(0, elements).Select(i => (Half)(random.NextSingle() - 0.5f)).ToArray()),
            TensorDatatype.BF16 => Make(Enumerable.Range(0, elements).Select(i => (BFloat16)(random.NextSingle() * 100)).ToArray()),
            TensorDatatype.FP32 => Make(Enumerable.Range(0, elements).Select(i => random.NextSingle() * 1e6f).ToArray()),
            TensorDatatype.FP64 => Make(Enumerable.Range(0, elements).Select(i => random.NextDouble() * -1e300).ToArray()),
            TensorDatatype.UInt16 => Make(Enumerable.Range(0, elements).Select(i => (ushort)random.Next(65536)).ToArray()),
            TensorDatatype.UInt32 => Make(Enumerable.Range(0, elements).Select(i => (uint)random.NextInt64(uint.MaxValue)).ToArray()),
            TensorDatatype.UInt64 => Make(Enumerable.Range(0, elements).Select(i => (ulong)random.NextInt64()).ToArray()),
            TensorDatatype.Bytes => Strings([.. Enumerable.Range(0, elements).Select(i => new string('é', random.Next(0, 9)) + i.ToString(System.Globalization.CultureInfo.InvariantCulture))]),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };

        (InferInput, byte[]) Strings(string[] values)
        {
            var bytes = new List<byte>();
            foreach (string v in values)
            {
                byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(v);
                bytes.AddRange(BitConverter.GetBytes((uint)utf8.Length));
                bytes.AddRange(utf8);
            }

            return (InferInput.FromStrings(name, values, shape), bytes.ToArray());
        }

        (InferInput, byte[]) Make<T>(T[] values)
            where T : unmanaged =>
            (InferInput.Create(name, values, shape), MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }

    public static long[] ShapeOf(int elements) => elements == 0 ? [0, 4] : [1, elements];
}
