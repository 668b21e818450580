using BenchmarkDotNet.Attributes;
using LowLatency.Features.Cache;
using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Features.Store;

namespace LowLatency.MicroBench;

/// <summary>
/// Reading the example's two rows for one (user, item) pair, as a feature-joined request will:
/// from the near cache (the hot path), and from the embedded Garnet with no cache (a miss: one
/// MGET over loopback through StackExchange.Redis).
/// </summary>
public class FeatureReadBenchmarks
{
    private readonly RowRead[] _rows = new RowRead[2];
    private NearCache _cache = null!;
    private FeatureStore _store = null!;

    [GlobalSetup]
    public void Setup()
    {
        var repository = FeatureRepositoryReader.Read(Path.Combine(Repo.Root, "feature_repo"));
        var users = repository.FeatureView("user_activity")!;
        var items = repository.FeatureView("item_static")!;
        long now = EventTime.ToMicros(DateTimeOffset.UtcNow);
        _rows[0] = new RowRead(users, EntityKey.Of(42), new byte[users.RowBytes]);
        _rows[1] = new RowRead(items, EntityKey.Of(7), new byte[items.RowBytes]);
        _cache = new NearCache(new MemoryOnlineStore(new byte[Math.Max(users.RowBytes, items.RowBytes)], now), new NearCacheSettings { MaxStaleness = TimeSpan.FromHours(1) });
        _cache.ReadAsync(_rows).AsTask().GetAwaiter().GetResult();

        _store = FeatureStore.OpenAsync(repository).GetAwaiter().GetResult();
        var written = new bool[2];
        _store.Online.WriteAsync(new RowWrite[] { new(users, EntityKey.Of(42), now, users.DefaultRow), new(items, EntityKey.Of(7), now, items.DefaultRow) }, written).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    [AllocationBudget(0, "a struct key per row, the rows copied into the caller's buffers, a completed ValueTask")]
    public RowState CachedRows()
    {
        _rows[0].State = RowState.Pending;
        _rows[1].State = RowState.Pending;
        var read = _cache.ReadAsync(_rows);
        return read.IsCompletedSuccessfully ? _rows[1].State : RowState.Unavailable;
    }

    [Benchmark]
    [AllocationBudget(2048, "the keys, the MGET's task and reply (SE.Redis), the read's state machine and arrays: a miss pays a round trip anyway")]
    public RowState GarnetRows()
    {
        _rows[0].State = RowState.Pending;
        _rows[1].State = RowState.Pending;
        _store.Stores[0].ReadAsync(_rows).AsTask().GetAwaiter().GetResult();
        return _rows[1].State;
    }
}
