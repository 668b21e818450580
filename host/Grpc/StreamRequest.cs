using System.Buffers;
using LowLatency.Host.Memory;
using BodyLease = LowLatency.Client.BodyLease;

namespace LowLatency.Host.Grpc;

/// <summary>
/// One <c>ModelInferRequest</c> received on a stream, copied once out of Kestrel's buffers: Grpc.AspNetCore
/// takes its buffers back as soon as the deserializer returns, and the request is decoded (borrowing
/// its raw tensors from here) only once the stream's handler has it. Its place in the body budget is
/// taken before the copy, so a message the budget has no room for is never copied (<see cref="OverBudget"/>);
/// the place and the buffer are given back when the request is answered (<see cref="Dispose"/>), or,
/// when it was forwarded to a remote backend (<see cref="Lend"/>), once no attempt reads it any more.
/// </summary>
internal sealed class StreamRequest : IDisposable
{
    // Up to this a message is copied into an array of the shared pool; past it into an array of its own,
    // which the trim after a burst (MemoryTrim's compacting collection) gives back to the system. The
    // shared pool keeps what it is returned, so a burst of large messages would stay resident.
    private const int PooledBytes = 1 << 20;

    private readonly BodyBudget _budget;
    private byte[]? _buffer;
    private long _reservation;
    private BodyLease? _lease;

    private StreamRequest(BodyBudget budget, byte[]? buffer, int length, long reservation) =>
        (_budget, _buffer, Length, _reservation, OverBudget) = (budget, buffer, length, reservation, reservation == 0);

    public int Length { get; }

    /// <summary>The body budget had no room for the message: it was not copied, and is answered as over the budget.</summary>
    public bool OverBudget { get; }

    public ReadOnlySequence<byte> Message => new(_buffer!, 0, Length);

    public static StreamRequest Receive(ReadOnlySequence<byte> payload, BodyBudget budget)
    {
        int length = (int)payload.Length;
        if (!budget.TryReserve(length, out long reservation))
        {
            return new StreamRequest(budget, null, length, 0);
        }

        var buffer = length <= PooledBytes ? ArrayPool<byte>.Shared.Rent(length) : GC.AllocateUninitializedArray<byte>(length);
        payload.CopyTo(buffer);
        return new StreamRequest(budget, buffer, length, reservation);
    }

    /// <summary>The lease a forward's attempts read the message within; made on the first call (a local request needs none).</summary>
    public BodyLease Lend() => _lease ??= new BodyLease();

    public void Dispose()
    {
        if (_lease?.CloseAsync() is { IsCompleted: false } drained)
        {
            // An abandoned attempt (a lost hedge, a cancelled one) still writes the message: the buffer,
            // which the pool would hand to the next message, and its place go back once it stops. The
            // answer is not held up: it is on the stream already.
            _ = GiveBackAfterAsync(drained);
            return;
        }

        GiveBack();
    }

    private async Task GiveBackAfterAsync(ValueTask drained)
    {
        await drained.ConfigureAwait(false);
        GiveBack();
    }

    private void GiveBack()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { Length: > 0 and <= PooledBytes } pooled)
        {
            ArrayPool<byte>.Shared.Return(pooled);
        }

        if (Interlocked.Exchange(ref _reservation, 0) is var reservation and not 0)
        {
            _budget.Release(reservation);
        }
    }
}
