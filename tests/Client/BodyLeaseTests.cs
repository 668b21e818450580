using System.Buffers;
using System.Runtime.InteropServices;
using LowLatency.Client;
using LowLatency.Client.Grpc;
using LowLatency.Client.Http;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Client;

/// <summary>
/// A forwarded body's <see cref="BodyLease"/> with the contents that read it (REST's
/// <see cref="SequenceContent"/>, gRPC's forwarding marshaller): the owner gets the body back only
/// once no write reads it, and no write starts after.
/// </summary>
public sealed class BodyLeaseTests
{
    [Fact]
    public void A_lease_no_write_holds_closes_at_once_and_allocates_nothing()
    {
        var lease = new BodyLease();
        Assert.True(lease.TryEnter());
        lease.Exit();

        long before = GC.GetAllocatedBytesForCurrentThread();
        var drained = lease.CloseAsync();
        bool completed = drained.IsCompleted;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(completed);
        Assert.Equal(0, allocated);
        Assert.True(lease.IsClosed);
        Assert.False(lease.TryEnter());
        Assert.True(lease.CloseAsync().IsCompleted);
    }

    [Fact]
    public async Task A_body_goes_back_only_once_the_content_writing_it_stopped_and_a_content_that_starts_later_reads_nothing()
    {
        byte[] original = Pattern(256 * 1024, seed: 1);
        var body = Segmented.Of(original, 4096);
        var lease = new BodyLease();
        using var content = new SequenceContent(body, lease, "application/octet-stream", null);
        var stream = new GatedStream();

        var writing = content.CopyToAsync(stream);
        await stream.FirstWrite.WaitAsync(TimeSpan.FromSeconds(10));
        var drained = lease.CloseAsync();
        Assert.False(drained.IsCompleted);

        // The write goes on (a real transport's is cut by its cancellation); the close waits for it.
        stream.Open();
        await writing.WaitAsync(TimeSpan.FromSeconds(10));
        await drained.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(original, stream.Written);

        // The owner reuses its buffers: a content that had not begun (a lost hedge's, say) never reads them.
        Overwrite(body, 0xEE);
        using var late = new SequenceContent(body, lease, "application/octet-stream", null);
        var sink = new MemoryStream();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => late.CopyToAsync(sink));
        Assert.ThrowsAny<OperationCanceledException>(() => late.CopyTo(sink, null, CancellationToken.None));
        Assert.Equal(0, sink.Length);
    }

    [Fact]
    public void The_gRPC_forwarding_marshaller_copies_the_message_within_its_lease_and_not_after_it_closed()
    {
        byte[] message = Pattern(10_000, seed: 2);
        var lease = new BodyLease();
        var open = new GrpcContexts.Serialization(chunk: 4096);
        ForwardMethod.ModelInfer.RequestMarshaller.ContextualSerializer(new ForwardedMessage(Segmented.Of(message, 1000), lease, "m", null), open);
        Assert.Equal(message, open.Written[..message.Length]);
        Assert.True(lease.CloseAsync().IsCompleted);

        var closed = new GrpcContexts.Serialization(chunk: 4096);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            ForwardMethod.ModelInfer.RequestMarshaller.ContextualSerializer(new ForwardedMessage(Segmented.Of(message, 1000), lease, "m", null), closed));
        Assert.Empty(closed.Written);
    }

    [Fact]
    public async Task Under_writers_racing_the_close_none_is_inside_once_the_close_has_completed()
    {
        for (int round = 0; round < 200; round++)
        {
            var lease = new BodyLease();
            int inside = 0, lateReads = 0;
            bool drainedSeen = false;
            using var start = new ManualResetEventSlim();
            var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.Wait();
                while (lease.TryEnter())
                {
                    Interlocked.Increment(ref inside);
                    if (Volatile.Read(ref drainedSeen))
                    {
                        Interlocked.Increment(ref lateReads);
                    }

                    Thread.SpinWait(20);
                    Interlocked.Decrement(ref inside);
                    lease.Exit();
                }
            })).ToArray();

            start.Set();
            Thread.SpinWait(500 * (round % 7));
            await lease.CloseAsync();
            Volatile.Write(ref drainedSeen, true);
            Assert.Equal(0, Volatile.Read(ref inside));
            await Task.WhenAll(writers);
            Assert.Equal(0, lateReads);
        }
    }

    internal static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>What reuse by the owner does to a returned buffer: other bytes in it.</summary>
    private static void Overwrite(ReadOnlySequence<byte> body, byte value)
    {
        foreach (var segment in body)
        {
            Assert.True(MemoryMarshal.TryGetArray(segment, out var array));
            array.AsSpan().Fill(value);
        }
    }

    /// <summary>A stream whose writes wait, from the first, until <see cref="Open"/>: a transport whose peer reads slowly.</summary>
    private sealed class GatedStream : Stream
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly MemoryStream _written = new();

        public Task FirstWrite => _first.Task;

        public byte[] Written => _written.ToArray();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Open() => _open.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _first.TrySetResult();
            await _open.Task.WaitAsync(cancellationToken);
            _written.Write(buffer.Span);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
