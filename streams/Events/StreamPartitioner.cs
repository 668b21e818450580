using System.IO.Hashing;
using System.Text;

namespace LowLatency.Streams.Events;

/// <summary>
/// The producer-side choice of partition: XxHash32 (seed 0) of the key field's bytes as they are
/// appended (an INT64 id in decimal), modulo the partition count. Any producer, in any language,
/// that hashes the same bytes the same way sends an entity's events to one partition, which is what
/// gives every entity one owner and makes its windows depend on that partition's order alone.
/// </summary>
public static class StreamPartitioner
{
    public static int Partition(ReadOnlySpan<byte> key, int partitions) => (int)(XxHash32.HashToUInt32(key) % (uint)partitions);

    public static int Partition(string key, int partitions)
    {
        Span<byte> bytes = key.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        int n = Encoding.UTF8.GetBytes(key, bytes);
        return Partition(bytes[..n], partitions);
    }

    public static int Partition(long key, int partitions)
    {
        Span<byte> digits = stackalloc byte[20];
        System.Buffers.Text.Utf8Formatter.TryFormat(key, digits, out int n);
        return Partition(digits[..n], partitions);
    }
}
