using System.Runtime.InteropServices;

namespace LowLatency.Host.Memory;

/// <summary>
/// The bytes of request bodies the server holds at once (<c>LowLatency:MaxBufferedRequestBodyBytes</c>).
/// An inference request reserves its body at admission, before a byte of it is read: its declared
/// Content-Length, or, without one (chunked), the most it may grow to (<c>MaxRequestBodyBytes</c>);
/// it gives the reservation back when it ends. A body that does not fit is refused (503,
/// Retry-After) rather than read: parallel maximum-size bodies can no longer take the machine's memory.
/// A body of at most <see cref="SmallBody"/> is always admitted (and counted): no more than a
/// connection's own buffers, and refusing it would let a few slow senders of large bodies hold off
/// every ordinary request.
/// One long on its own cache line, changed by one compare-and-swap per admission and one add per
/// release: no lock on the request path. It also counts the requests in progress (the high bits),
/// which shutdown reports.
/// </summary>
internal sealed class BodyBudget
{
    /// <summary>Bodies up to this size are admitted whatever the budget holds.</summary>
    public const long SmallBody = 64 * 1024;

    /// <summary>The largest budget: the bytes field keeps headroom for small bodies admitted past it.</summary>
    public const long MaxLimit = 1L << 39;

    private const int CountShift = 40;
    private const long BytesMask = (1L << CountShift) - 1;
    private const long OneRequest = 1L << CountShift;

    private State _state;

    public BodyBudget(long limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        Limit = limit;
    }

    public long Limit { get; }

    /// <summary>Bytes reserved by the requests in progress.</summary>
    public long HeldBytes => Volatile.Read(ref _state.Value) & BytesMask;

    /// <summary>Inference requests admitted and not yet ended.</summary>
    public long InProgress => Volatile.Read(ref _state.Value) >> CountShift;

    /// <summary>
    /// Reserves <paramref name="bytes"/> for one request; false (nothing reserved) when they do not
    /// fit. <paramref name="reservation"/> goes back through <see cref="Release"/>.
    /// </summary>
    public bool TryReserve(long bytes, out long reservation)
    {
        reservation = OneRequest + bytes;
        if (bytes <= SmallBody)
        {
            Interlocked.Add(ref _state.Value, reservation);
            return true;
        }

        long current = Volatile.Read(ref _state.Value);
        while (true)
        {
            if ((current & BytesMask) + bytes > Limit)
            {
                reservation = 0;
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _state.Value, current + reservation, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    public void Release(long reservation) => Interlocked.Add(ref _state.Value, -reservation);

    /// <summary>The counter, alone on its cache line: every request on every core changes it.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    internal struct State
    {
        [FieldOffset(64)]
        public long Value;
    }
}
