using System.Runtime.InteropServices;
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
