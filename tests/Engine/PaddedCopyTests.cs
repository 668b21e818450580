using System.Runtime.InteropServices;
using CsCheck;
using LowLatency.Engine.Execution;

namespace LowLatency.Tests.Engine;

public sealed class PaddedCopyTests
{
    [Fact]
    public void Same_shape_is_a_plain_copy()
    {
        int[] src = [1, 2, 3, 4, 5, 6];
        var dst = new int[6];
        PaddedCopy.Copy(MemoryMarshal.AsBytes(src.AsSpan()), [2, 3], MemoryMarshal.AsBytes(dst.AsSpan()), [2, 3], sizeof(int));
        Assert.Equal(src, dst);
    }

    [Fact]
    public void Rows_are_padded_on_the_right_with_the_destination_zeros()
    {
        long[] src = [1, 2, 3, 4, 5, 6];
        var dst = new long[2 * 5];
        PaddedCopy.Copy(MemoryMarshal.AsBytes(src.AsSpan()), [2, 3], MemoryMarshal.AsBytes(dst.AsSpan()), [2, 5], sizeof(long));
        Assert.Equal([1L, 2, 3, 0, 0, 4, 5, 6, 0, 0], dst);
    }

    [Fact]
    public void Every_variable_dimension_of_a_rank_3_tensor_is_padded()
    {
        // [1, 2, 2] into [1, 3, 4]
        float[] src = [1, 2, 3, 4];
        var dst = new float[12];
        PaddedCopy.Copy(MemoryMarshal.AsBytes(src.AsSpan()), [1, 2, 2], MemoryMarshal.AsBytes(dst.AsSpan()), [1, 3, 4], sizeof(float));
        Assert.Equal([1f, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0], dst);
    }
}

public sealed class PaddedCopyFromSegmentsTests
{
    [Fact]
    public void A_source_split_across_buffers_lands_exactly_as_a_contiguous_one()
    {
        // Random shapes padded into random larger ones, the source cut into random-sized buffers
        // (Kestrel's blocks split a body anywhere, even inside an element).
        Gen.Select(Gen.Int[1, 5].Array[1, 3], Gen.Int[0, 3].Array[3], Gen.Int[1, 40])
            .Sample((dims, extra, segment) =>
            {
                long[] srcShape = [.. dims.Select(d => (long)d)];
                long[] dstShape = [.. srcShape.Select((d, i) => d + extra[i])];
                int elements = (int)srcShape.Aggregate(1L, (a, b) => a * b);
                var src = Enumerable.Range(1, elements).ToArray();
                var bytes = MemoryMarshal.AsBytes(src.AsSpan());
                var expected = new byte[dstShape.Aggregate(1L, (a, b) => a * b) * sizeof(int)];
                var actual = new byte[expected.Length];
                PaddedCopy.Copy(bytes, srcShape, expected, dstShape, sizeof(int));
                PaddedCopy.Copy(LowLatency.Tests.Infrastructure.Segmented.Of(bytes, segment), srcShape, actual, dstShape, sizeof(int));
                Assert.Equal(expected, actual);
            });
    }
}
