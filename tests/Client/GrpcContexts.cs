using System.Buffers;
using Grpc.Core;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Client;

/// <summary>Stand-ins for Grpc.Net.Client's serialization contexts, checking the marshallers use them as the contract asks.</summary>
internal static class GrpcContexts
{
    /// <summary>Records SetPayloadLength, hands out buffers in chunks (as a pipe's segments would), and checks Complete.</summary>
    public sealed class Serialization(int chunk) : SerializationContext
    {
        private readonly ChunkedWriter _writer = new(chunk);

        public int? PayloadLength { get; private set; }

        public int Completions { get; private set; }

        public byte[] Written => _writer.ToArray();

        public override void SetPayloadLength(int payloadLength)
        {
            Assert.Null(PayloadLength);
            Assert.Equal(0, _writer.Length);
            PayloadLength = payloadLength;
        }

        public override IBufferWriter<byte> GetBufferWriter() => _writer;

        public override void Complete() => Completions++;

        public override void Complete(byte[] payload) => throw new InvalidOperationException("the marshaller must write through the buffer writer");
    }

    public sealed class Deserialization(byte[] payload, int segmentBytes) : DeserializationContext
    {
        public override int PayloadLength => payload.Length;

        public override byte[] PayloadAsNewBuffer() => throw new InvalidOperationException("the marshaller must read the sequence, not copy into a new array");

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => Segmented.Of(payload, segmentBytes);
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> that gives at most <c>chunk</c> bytes at a time (more only when asked for more).</summary>
    public sealed class ChunkedWriter(int chunk) : IBufferWriter<byte>
    {
        private readonly List<byte[]> _done = [];
        private byte[] _current = [];
        private int _used;

        public int Length => _done.Sum(d => d.Length) + _used;

        public void Advance(int count)
        {
            Assert.InRange(count, 0, _current.Length - _used);
            _used += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Next(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Next(sizeHint).Span;

        public byte[] ToArray() => [.. _done.SelectMany(d => d), .. _current.AsSpan(0, _used).ToArray()];

        private Memory<byte> Next(int sizeHint)
        {
            if (_current.Length - _used < Math.Max(1, sizeHint))
            {
                _done.Add(_current[.._used]);
                _current = new byte[Math.Max(chunk, sizeHint)];
                _used = 0;
            }

            return _current.AsMemory(_used);
        }
    }
}
