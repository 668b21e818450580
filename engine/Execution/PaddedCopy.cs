namespace LowLatency.Engine.Execution;

/// <summary>
/// Copies a row-major tensor into a larger row-major destination whose dimensions are each at least
/// the source's: the padding the batcher uses to join requests of different sequence lengths. The
/// destination's padding must already be zero.
/// </summary>
public static class PaddedCopy
{
    public static void Copy(ReadOnlySpan<byte> src, ReadOnlySpan<long> srcShape, Span<byte> dst, ReadOnlySpan<long> dstShape, int elementSize)
    {
        int rank = srcShape.Length;
        if (rank == 0)
        {
            src[..elementSize].CopyTo(dst);
            return;
        }

        bool same = true;
        for (int d = 0; d < rank; d++)
        {
            same &= srcShape[d] == dstShape[d];
        }

        if (same)
        {
            src.CopyTo(dst);
            return;
        }

        // Contiguous runs are the innermost dimension; walk the outer index space with a counter.
        int run = (int)srcShape[rank - 1] * elementSize;
        Span<long> index = stackalloc long[rank];
        Span<long> dstStride = stackalloc long[rank];
        long stride = elementSize;
        for (int d = rank - 1; d >= 0; d--)
        {
            dstStride[d] = stride;
            stride *= dstShape[d];
        }

        long outer = 1;
        for (int d = 0; d < rank - 1; d++)
        {
            outer *= srcShape[d];
        }

        int srcOffset = 0;
        for (long n = 0; n < outer; n++)
        {
            long dstOffset = 0;
            for (int d = 0; d < rank - 1; d++)
            {
                dstOffset += index[d] * dstStride[d];
            }

            src.Slice(srcOffset, run).CopyTo(dst.Slice((int)dstOffset, run));
            srcOffset += run;
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++index[d] < srcShape[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }
    }
}
