namespace LowLatency.Streams.Windows;

/// <summary>
/// A distinct count: the k = 64 smallest distinct 64-bit hashes of the values seen. Below 64 distinct
/// values it holds them all and the count is exact; from 64 on it estimates (k − 1) / (h_k / 2^64),
/// the k-minimum-values estimator (relative standard error about 1 / √(k − 2), 13 %). It depends only
/// on the set of values, not their order, so merged sessions and a replay give the same answer.
/// </summary>
public sealed class KmvSketch
{
    public const int K = 64;

    private readonly ulong[] _hashes = new ulong[K];

    public int Count { get; private set; }

    public ReadOnlySpan<ulong> Hashes => _hashes.AsSpan(0, Count);

    public void Add(ulong hash)
    {
        var held = _hashes.AsSpan(0, Count);
        int at = held.BinarySearch(hash);
        if (at >= 0)
        {
            return;
        }

        at = ~at;
        if (Count < K)
        {
            _hashes.AsSpan(at, Count - at).CopyTo(_hashes.AsSpan(at + 1));
            _hashes[at] = hash;
            Count++;
        }
        else if (at < K)
        {
            _hashes.AsSpan(at, K - 1 - at).CopyTo(_hashes.AsSpan(at + 1));
            _hashes[at] = hash;
        }
    }

    public void Merge(KmvSketch other)
    {
        foreach (ulong h in other.Hashes)
        {
            Add(h);
        }
    }

    public double Estimate() => Count < K ? Count : (K - 1) / (_hashes[K - 1] / 18446744073709551616.0);
}
