using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace LowLatency.Host.Grpc;

/// <summary>
/// The strings for names a message carries as UTF-8 (a model's name, a version): the engine's
/// routing takes strings, and making one per call would allocate on every request. Only names
/// <see cref="Remember">remembered</see> once they were found served are kept, so a client cannot
/// grow the cache; past <see cref="MaxEntries"/> (models come and go under Poll) it starts over.
/// </summary>
internal sealed class NameCache
{
    private const int MaxEntries = 4096;
    private const int MaxChars = 128;

    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public NameCache() => _bySpan = _names.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The name as a string: the kept one if known, else a new one (null for empty).</summary>
    public string? Get(ReadOnlySequence<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return null;
        }

        if (utf8.Length <= MaxChars)
        {
            Span<byte> bytes = stackalloc byte[MaxChars];
            utf8.CopyTo(bytes);
            Span<char> chars = stackalloc char[MaxChars];
            if (Encoding.UTF8.TryGetChars(bytes[..(int)utf8.Length], chars, out int n) && _bySpan.TryGetValue(chars[..n], out var known))
            {
                return known;
            }
        }

        return Encoding.UTF8.GetString(utf8);
    }

    /// <summary>Keeps a name the engine serves, for the calls after this one.</summary>
    public void Remember(string name)
    {
        if (name.Length > MaxChars || _names.ContainsKey(name))
        {
            return;
        }

        if (_names.Count >= MaxEntries)
        {
            _names.Clear();
        }

        _names.TryAdd(name, name);
    }
}
