namespace LowLatency.Engine.Routing;

/// <summary>
/// A stable 64-bit hash of a routing key (FNV-1a over its UTF-16 code units, then a SplitMix64
/// finaliser). Stable across processes and machines, unlike string.GetHashCode: every replica
/// behind a load balancer sends one user to the same version.
/// </summary>
internal static class RoutingKey
{
    public static ulong Hash(ReadOnlySpan<char> key)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in key)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return Mix(h);
    }

    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform number in (0, 1) from a key's hash and a candidate's identity.</summary>
    internal static double Unit(ulong keyHash, long candidate)
    {
        ulong h = Mix(keyHash ^ Mix((ulong)candidate + 0x9E3779B97F4A7C15UL));
        return ((h >> 11) + 0.5) * (1.0 / (1UL << 53));
    }
}
