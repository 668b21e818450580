using System.Collections.Concurrent;
using System.Text;

namespace LowLatency.Join;

/// <summary>
/// STRING entity ids as strings, found by their UTF-8 bytes: a join reads ids as bytes from the
/// request's buffer, and the near cache and the store key rows by string. An id seen before is
/// looked up by its bytes (an alternate lookup: no string made), so a warm join allocates nothing;
/// a new one is made once and kept. Bounded by count: past <see cref="Capacity"/> ids the set is
/// emptied and refills with the ids in use (a full set is a sign of many one-off ids, which
/// allocate their string whatever is kept).
/// </summary>
internal sealed class IdStrings
{
    /// <summary>Ids kept: with ids of up to 64 bytes, a few MiB at most.</summary>
    public const int Capacity = 1 << 16;

    private readonly ConcurrentDictionary<string, string> _ids = new(Utf8Comparer.Instance);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<byte>> _byUtf8;
    private int _count;

    public IdStrings() => _byUtf8 = _ids.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>The id whose UTF-8 bytes are <paramref name="utf8"/> (valid UTF-8, checked by the decoders).</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (_byUtf8.TryGetValue(utf8, out string? id))
        {
            return id;
        }

        return Add(utf8);
    }

    private string Add(ReadOnlySpan<byte> utf8)
    {
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            _ids.Clear();
            Volatile.Write(ref _count, 1);
        }

        string id = Encoding.UTF8.GetString(utf8);
        return _ids.GetOrAdd(id, id);
    }

    /// <summary>
    /// Ordinal string equality, with a UTF-8 view of it: bytes are decoded to UTF-16 on the stack
    /// (an id has at most 1024 bytes, so at most 1024 chars; a longer one, which no decoder lets through, on the heap) and hashed as the string itself is.
    /// </summary>
    private sealed class Utf8Comparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<byte>, string>
    {
        public static readonly Utf8Comparer Instance = new();

        private const int MaxChars = 1024;

        public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public int GetHashCode(string obj) => string.GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, string other)
        {
            // UTF-16 never takes more chars than UTF-8 takes bytes.
            Span<char> chars = alternate.Length <= MaxChars ? stackalloc char[alternate.Length] : new char[alternate.Length];
            return Decode(alternate, chars, out int n) && chars[..n].SequenceEqual(other);
        }

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            Span<char> chars = alternate.Length <= MaxChars ? stackalloc char[alternate.Length] : new char[alternate.Length];
            return Decode(alternate, chars, out int n) ? string.GetHashCode(chars[..n]) : alternate.Length;
        }

        public string Create(ReadOnlySpan<byte> alternate) => Encoding.UTF8.GetString(alternate);

        private static bool Decode(ReadOnlySpan<byte> utf8, Span<char> chars, out int n) =>
            Encoding.UTF8.TryGetChars(utf8, chars, out n);
    }
}
