using System.Collections.Concurrent;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// The model names (and version texts) of inference URLs, kept as strings once: a request whose
/// URL names one of them takes that string instead of a new one cut from its path. A name is kept
/// only after a request to it was routed (not a 404), so that clients cannot fill the table with
/// names of their own; it holds at most <see cref="Capacity"/>, after which a new name is cut per
/// request as before.
/// </summary>
internal sealed class RouteNames
{
    public const int Capacity = 4096;

    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    // Counted here: ConcurrentDictionary.Count takes every one of its locks.
    private int _count;

    public RouteNames() => _bySpan = _names.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The kept string equal to <paramref name="text"/> (true), or a new one (false: see <see cref="Keep"/>).</summary>
    public bool TryGet(ReadOnlySpan<char> text, out string name)
    {
        if (_bySpan.TryGetValue(text, out var kept))
        {
            name = kept;
            return true;
        }

        name = new string(text);
        return false;
    }

    /// <summary>Keeps <paramref name="name"/>, a name a request was routed to, while there is room.</summary>
    public void Keep(string name)
    {
        if (Volatile.Read(ref _count) < Capacity && _names.TryAdd(name, name))
        {
            Interlocked.Increment(ref _count);
        }
    }
}
