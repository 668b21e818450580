using System.Buffers;

namespace LowLatency.Host.Protocol;

/// <summary>
/// An answer whose length is known only once written (JSON, and errors in either encoding) is written
/// here first and then sent with a Content-Length, not chunked: chunked, Kestrel may send the closing
/// chunk in a write of its own, and the client waits for it (docs/performance.md#host-request-path).
/// One buffer per thread, reused; nothing awaits between taking it and sending it.
/// </summary>
internal static class ResponseBuffer
{
    // Past this, a buffer is dropped after use rather than kept by its thread (a large JSON answer).
    private const int KeepAtMost = 1 << 20;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _forThisThread;

    public static ArrayBufferWriter<byte> ForThisThread()
    {
        var buffer = _forThisThread ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        return buffer;
    }

    /// <summary>Sets the response's Content-Length and copies the buffer into its body (not flushed).</summary>
    /// <param name="following">Bytes the caller writes to the body after the buffer's (binary tensors), counted in the length.</param>
    public static void Send(HttpResponse response, ArrayBufferWriter<byte> buffer, long following = 0)
    {
        response.ContentLength = buffer.WrittenCount + following;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > KeepAtMost)
        {
            _forThisThread = null;
        }
    }
}
