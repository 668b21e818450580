using System.Buffers;

namespace LowLatency.Engine.Execution;

/// <summary>
/// Copies a row-major tensor into a larger row-major destination whose dimensions are each at least
/// the source's: the padding the batcher uses to join requests of different sequence lengths. The
/// destination's padding must already be zero. The source is read once, front to back, so it may be
/// a request body's buffer chain as Kestrel received it.
/// </summary>
internal static class PaddedCopy
{
    public static void Copy(ReadOnlySpan<byte> src, ReadOnlySpan<long> srcShape, Span<byte> dst, ReadOnlySpan<long> dstShape, int elementSize)
    {
        var source = new SpanSource(src);
        Copy(ref source, srcShape, dst, dstShape, elementSize);
    }

    public static void Copy(in ReadOnlySequence<byte> src, ReadOnlySpan<long> srcShape, Span<byte> dst, ReadOnlySpan<long> dstShape, int elementSize)
    {
        if (src.IsSingleSegment)
        {
            Copy(src.FirstSpan, srcShape, dst, dstShape, elementSize);
            return;
        }

        var source = new SequenceSource(src);
        Copy(ref source, srcShape, dst, dstShape, elementSize);
    }

    private static void Copy<TSource>(ref TSource src, ReadOnlySpan<long> srcShape, Span<byte> dst, ReadOnlySpan<long> dstShape, int elementSize)
        where TSource : ISource, allows ref struct
    {
        int rank = srcShape.Length;
        if (rank == 0)
        {
            src.CopyNext(dst[..elementSize]);
            return;
        }

        bool same = true;
        long total = elementSize;
        for (int d = 0; d < rank; d++)
        {
            same &= srcShape[d] == dstShape[d];
            total *= srcShape[d];
        }

        if (same)
        {
            src.CopyNext(dst[..(int)total]);
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

        for (long n = 0; n < outer; n++)
        {
            long dstOffset = 0;
            for (int d = 0; d < rank - 1; d++)
            {
                dstOffset += index[d] * dstStride[d];
            }

            src.CopyNext(dst.Slice((int)dstOffset, run));
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

    /// <summary>Bytes read front to back: each call copies the next <c>dst.Length</c> of them.</summary>
    private interface ISource
    {
        void CopyNext(Span<byte> dst);
    }

    private ref struct SpanSource(ReadOnlySpan<byte> span) : ISource
    {
        private ReadOnlySpan<byte> _rest = span;

        public void CopyNext(Span<byte> dst)
        {
            _rest[..dst.Length].CopyTo(dst);
            _rest = _rest[dst.Length..];
        }
    }

    private ref struct SequenceSource(ReadOnlySequence<byte> sequence) : ISource
    {
        private SequenceReader<byte> _reader = new(sequence);

        public void CopyNext(Span<byte> dst)
        {
            if (!_reader.TryCopyTo(dst))
            {
                throw new ArgumentException("the source has fewer bytes than its shape says");
            }

            _reader.Advance(dst.Length);
        }
    }
}
