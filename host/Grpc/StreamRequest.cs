using System.Buffers;

namespace LowLatency.Host.Grpc;

/// <summary>
/// One <c>ModelInferRequest</c> received on a stream, copied once out of Kestrel's buffers into a
/// pooled array: Grpc.AspNetCore takes its buffers back as soon as the deserializer returns, and the
/// request is decoded (borrowing its raw tensors from here) only once the stream's handler has it.
/// The array goes back to the pool when the request is answered (<see cref="Dispose"/>).
/// </summary>
internal sealed class StreamRequest : IDisposable
{
    private byte[]? _buffer;

    private StreamRequest(byte[] buffer, int length) => (_buffer, Length) = (buffer, length);

    public int Length { get; }

    public ReadOnlySequence<byte> Message => new(_buffer!, 0, Length);

    public static StreamRequest Copy(ReadOnlySequence<byte> payload)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        payload.CopyTo(buffer);
        return new StreamRequest(buffer, (int)payload.Length);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
