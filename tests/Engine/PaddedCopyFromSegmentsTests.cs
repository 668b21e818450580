using System.Runtime.InteropServices;
using CsCheck;
using LowLatency.Engine.Execution;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Engine;

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
                PaddedCopy.Copy(Segmented.Of(bytes, segment), srcShape, actual, dstShape, sizeof(int));
                Assert.Equal(expected, actual);
            });
    }
}
