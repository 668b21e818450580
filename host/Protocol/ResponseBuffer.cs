using System.Buffers;

namespace LowLatency.Host.Protocol;

/// <summary>
/// An answer whose length is known only once written (JSON, and errors in either encoding) is written
/// here first and then sent with a Content-Length, not chunked: chunked, Kestrel sent the closing
/// chunk in a write of its own after some answers, and the client waited for it (perf/results/README.md,
/// "MessagePack answers with a Content-Length"). One buffer per thread, reused; nothing awaits
/// between taking it and sending it.
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
    public static void Send(HttpResponse response, ArrayBufferWriter<byte> buffer)
    {
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > KeepAtMost)
        {
            _forThisThread = null;
        }
    }
}
