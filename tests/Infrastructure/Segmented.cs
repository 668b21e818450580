using System.Buffers;

namespace LowLatency.Tests.Infrastructure;

/// <summary>Bytes as a chain of buffers of a given size: what Kestrel hands over when a body spans its blocks.</summary>
internal static class Segmented
{
    public static ReadOnlySequence<byte> Of(ReadOnlySpan<byte> bytes, int segmentBytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment? first = null, last = null;
        for (int at = 0; at < bytes.Length; at += segmentBytes)
        {
            var chunk = bytes.Slice(at, Math.Min(segmentBytes, bytes.Length - at)).ToArray();
            var next = new Segment(chunk, at);
            if (last is null)
            {
                first = next;
            }
            else
            {
                last.SetNext(next);
            }

            last = next;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
