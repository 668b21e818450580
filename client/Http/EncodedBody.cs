using System.Buffers;

namespace LowLatency.Client.Http;

/// <summary>
/// A request body encoded once into a pooled buffer and sent by every attempt of the call. The
/// buffer goes back to the pool when the call is over and no attempt's content is still being
/// written: a server may answer (an early 413, say) while the handler is still sending the body.
/// </summary>
internal sealed class EncodedBody : IDisposable
{
    private byte[]? _buffer;
    private int _references = 1;

    public EncodedBody(byte[] buffer, int length, int jsonLength, int timeoutOffset)
    {
        _buffer = buffer;
        Length = length;
        JsonLength = jsonLength;
        JsonLengthText = jsonLength >= 0 ? jsonLength.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        TimeoutOffset = timeoutOffset;
    }

    public int Length { get; }

    /// <summary>The JSON header's length for Triton's binary form (<c>Inference-Header-Content-Length</c>); -1 for MessagePack.</summary>
    public int JsonLength { get; }

    public string? JsonLengthText { get; }

    /// <summary>Where the <c>timeout</c> parameter's value lies; -1 when none is sent.</summary>
    public int TimeoutOffset { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public Span<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>Takes a reference for a content about to write the body; false once the body is back in the pool.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            int references = Volatile.Read(ref _references);
            if (references == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _references, references + 1, references) == references)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0 && Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Drops the call's own reference.</summary>
    public void Dispose() => Release();
}
