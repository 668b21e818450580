using LowLatency.Features.Cache;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Features;

public sealed class NearCacheTests
{
    private static readonly FeatureRepository Repo = FeatureRepositoryReader.Read(TempFeatureRepository.Example);
    private static readonly FeatureView Users = Repo.FeatureView("user_activity")!;
    private static readonly FeatureView Items = Repo.FeatureView("item_static")!;

    private readonly ManualTime _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ScriptedStore _store = new();

    private long Now => EventTime.ToMicros(_time.GetUtcNow());

    private NearCache Cache(long capacity = 1 << 20, int stalenessMs = 1000, int notFoundMs = 100) =>
        new(_store, new NearCacheSettings { CapacityBytes = capacity, MaxStaleness = TimeSpan.FromMilliseconds(stalenessMs), NotFoundTtl = TimeSpan.FromMilliseconds(notFoundMs) }, _time);

    [Fact]
    public async Task A_cached_row_is_served_synchronously_without_the_store()
    {
        using var cache = Cache();
        _store.Put(Users, 1, Rows.Make(Users, 3), Now);
        await Rows.ReadAsync(cache, Rows.Read(Users, 1));

        var rows = new[] { Rows.Read(Users, 1) };
        var read = cache.ReadAsync(rows);

        Assert.True(read.IsCompletedSuccessfully);
        Assert.Equal((RowState.Found, Now), (rows[0].State, rows[0].EventTimeMicros));
        Assert.Equal(Rows.Make(Users, 3), rows[0].Destination.ToArray());
        Assert.Equal(1, _store.Reads);
        Assert.Equal((1L, 1L), (cache.Statistics.Hits, cache.Statistics.Misses));
    }

    [Fact]
    public async Task Concurrent_misses_of_one_row_make_one_fetch()
    {
        using var cache = Cache();
        _store.Put(Users, 7, Rows.Make(Users, 7), Now);
        _store.Hold();

        var reads = Enumerable.Range(0, 16).Select(_ => new[] { Rows.Read(Users, 7) }).ToArray();
        var pending = reads.Select(r => cache.ReadAsync(r).AsTask()).ToArray();
        Assert.True(await Poll.UntilAsync(() => cache.Statistics.Misses == 16), "16 misses");
        _store.Release();
        await Task.WhenAll(pending);

        Assert.Equal(1, _store.Reads);
        Assert.Equal(1, _store.RowsRead);
        Assert.Equal((1L, 15L), (cache.Statistics.Fetches, cache.Statistics.Coalesced));
        Assert.All(reads, r => Assert.Equal(Rows.Make(Users, 7), r[0].Destination.ToArray()));
    }

    [Fact]
    public async Task Overlapping_reads_fetch_each_row_once_and_a_row_asked_twice_in_one_read_once()
    {
        using var cache = Cache();
        foreach (int id in new[] { 1, 2, 3 })
        {
            _store.Put(Users, id, Rows.Make(Users, id), Now);
        }

        _store.Hold();
        var first = cache.ReadAsync(new[] { Rows.Read(Users, 1), Rows.Read(Users, 2), Rows.Read(Users, 2) }).AsTask();
        var second = new[] { Rows.Read(Users, 2), Rows.Read(Users, 3) };
        var secondRead = cache.ReadAsync(second).AsTask();
        _store.Release();
        await Task.WhenAll(first, secondRead);

        Assert.Equal(3, _store.RowsRead);
        Assert.Equal(1, cache.Statistics.Coalesced);
        Assert.Equal(Rows.Make(Users, 2), second[0].Destination.ToArray());
        Assert.Equal(Rows.Make(Users, 3), second[1].Destination.ToArray());
    }

    [Fact]
    public async Task The_cache_stays_within_its_bytes_and_spares_rows_in_use()
    {
        int entry = CacheEntry.Overhead + Items.RowBytes;
        using var cache = Cache(capacity: 10 * entry);
        for (int id = 0; id < 60; id++)
        {
            _store.Put(Items, id, Rows.Make(Items, id), Now);
        }

        for (int id = 1; id < 60; id++)
        {
            await Rows.ReadAsync(cache, Rows.Read(Items, id));
            await Rows.ReadAsync(cache, Rows.Read(Items, 1));
            Assert.InRange(cache.Bytes, 0, 10 * entry);
        }

        int before = _store.Reads;
        await Rows.ReadAsync(cache, Rows.Read(Items, 1));
        Assert.Equal(before, _store.Reads);
        Assert.True(cache.Statistics.Evictions >= 49, $"{cache.Statistics.Evictions} evictions");
        Assert.InRange(cache.Entries, 1, 10);
    }

    [Fact]
    public async Task A_row_is_fetched_again_once_its_staleness_is_over()
    {
        using var cache = Cache(stalenessMs: 1000);
        _store.Put(Items, 5, Rows.Make(Items, 1), Now);
        await Rows.ReadAsync(cache, Rows.Read(Items, 5));
        _store.Put(Items, 5, Rows.Make(Items, 2), Now);

        _time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(Rows.Make(Items, 1), (await Rows.ReadAsync(cache, Rows.Read(Items, 5)))[0].Destination.ToArray());
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(Rows.Make(Items, 2), (await Rows.ReadAsync(cache, Rows.Read(Items, 5)))[0].Destination.ToArray());
        Assert.Equal(2, _store.Reads);
    }

    [Fact]
    public async Task A_row_is_never_served_from_the_cache_past_its_views_max_age()
    {
        using var cache = Cache(stalenessMs: 3_600_000);
        _store.Put(Users, 5, Rows.Make(Users, 1), Now - (long)TimeSpan.FromHours(23.5).TotalMicroseconds);
        await Rows.ReadAsync(cache, Rows.Read(Users, 5));

        _time.Advance(TimeSpan.FromMinutes(29));
        await Rows.ReadAsync(cache, Rows.Read(Users, 5));
        Assert.Equal(1, _store.Reads);

        // Past the day of max age the row may have been replaced: asked for again, then, as it is
        // still the old one, remembered only as briefly as "not found".
        _time.Advance(TimeSpan.FromMinutes(2));
        await Rows.ReadAsync(cache, Rows.Read(Users, 5));
        Assert.Equal(2, _store.Reads);
        _time.Advance(TimeSpan.FromMilliseconds(150));
        await Rows.ReadAsync(cache, Rows.Read(Users, 5));
        Assert.Equal(3, _store.Reads);
    }

    [Fact]
    public async Task Not_found_is_remembered_briefly()
    {
        using var cache = Cache(notFoundMs: 100);

        Assert.Equal(RowState.NotFound, (await Rows.ReadAsync(cache, Rows.Read(Users, 404)))[0].State);
        Assert.Equal(RowState.NotFound, (await Rows.ReadAsync(cache, Rows.Read(Users, 404)))[0].State);
        Assert.Equal(1, _store.Reads);

        _store.Put(Users, 404, Rows.Make(Users, 4), Now);
        _time.Advance(TimeSpan.FromMilliseconds(101));
        Assert.Equal(RowState.Found, (await Rows.ReadAsync(cache, Rows.Read(Users, 404)))[0].State);
    }

    [Fact]
    public async Task A_write_through_the_cache_drops_the_row_it_wrote()
    {
        using var cache = Cache();
        Assert.Equal(RowState.NotFound, (await Rows.ReadAsync(cache, Rows.Read(Users, 9)))[0].State);
        _store.Put(Users, 8, Rows.Make(Users, 1), Now);
        await Rows.ReadAsync(cache, Rows.Read(Users, 8));

        await Rows.WriteAsync(cache, Rows.Write(Users, 8, _time.GetUtcNow(), seed: 2), Rows.Write(Users, 9, _time.GetUtcNow(), seed: 3));

        var rows = await Rows.ReadAsync(cache, Rows.Read(Users, 8), Rows.Read(Users, 9));
        Assert.Equal(Rows.Make(Users, 2), rows[0].Destination.ToArray());
        Assert.Equal(Rows.Make(Users, 3), rows[1].Destination.ToArray());
        Assert.Equal(3, _store.Reads);
    }

    [Fact]
    public async Task A_fetch_under_way_when_its_row_is_written_is_not_kept()
    {
        using var cache = Cache();
        _store.Put(Users, 6, Rows.Make(Users, 1), Now);
        _store.Hold();
        var stale = cache.ReadAsync(new[] { Rows.Read(Users, 6) }).AsTask();
        Assert.True(await Poll.UntilAsync(() => _store.Reads == 1), "the fetch under way");

        await Rows.WriteAsync(cache, Rows.Write(Users, 6, _time.GetUtcNow(), seed: 2));
        _store.Release();
        await stale;

        Assert.Equal(Rows.Make(Users, 2), (await Rows.ReadAsync(cache, Rows.Read(Users, 6)))[0].Destination.ToArray());
        Assert.Equal(2, _store.Reads);
    }

    [Fact]
    public async Task While_the_store_is_unreachable_a_row_fetched_before_serves_within_its_max_age()
    {
        using var cache = Cache(stalenessMs: 1000);
        _store.Put(Users, 1, Rows.Make(Users, 1), Now);
        await Rows.ReadAsync(cache, Rows.Read(Users, 1));
        _store.Unreachable = true;

        _time.Advance(TimeSpan.FromSeconds(5));
        var rows = await Rows.ReadAsync(cache, Rows.Read(Users, 1), Rows.Read(Users, 2));
        Assert.Equal((RowState.Found, RowState.Unavailable), (rows[0].State, rows[1].State));
        Assert.Equal(Rows.Make(Users, 1), rows[0].Destination.ToArray());
        Assert.Equal(1, cache.Statistics.StaleServed);

        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(RowState.Unavailable, (await Rows.ReadAsync(cache, Rows.Read(Users, 1)))[0].State);

        _store.Unreachable = false;
        Assert.Equal(RowState.Found, (await Rows.ReadAsync(cache, Rows.Read(Users, 1)))[0].State);
    }

    [Fact]
    public async Task A_failed_fetch_fails_every_read_waiting_for_it_and_the_next_read_tries_again()
    {
        using var cache = Cache();
        _store.Put(Users, 1, Rows.Make(Users, 1), Now);
        _store.Failure = new InvalidOperationException("boom");
        _store.Hold();
        var a = cache.ReadAsync(new[] { Rows.Read(Users, 1) }).AsTask();
        var b = cache.ReadAsync(new[] { Rows.Read(Users, 1) }).AsTask();
        _store.Release();

        await Assert.ThrowsAsync<InvalidOperationException>(() => a);
        await Assert.ThrowsAsync<InvalidOperationException>(() => b);
        _store.Failure = null;
        Assert.Equal(RowState.Found, (await Rows.ReadAsync(cache, Rows.Read(Users, 1)))[0].State);
    }

    [Fact]
    public async Task A_read_of_cached_rows_allocates_nothing()
    {
        using var cache = Cache(stalenessMs: 3_600_000);
        _store.Put(Users, 1, Rows.Make(Users, 1), Now);
        _store.Put(Items, 2, Rows.Make(Items, 2), Now);
        var rows = new[] { Rows.Read(Users, 1), Rows.Read(Items, 2) };
        await cache.ReadAsync(rows);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            rows[0].State = RowState.Pending;
            rows[1].State = RowState.Pending;
            var read = cache.ReadAsync(rows);
            Assert.True(read.IsCompletedSuccessfully);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(RowState.Found, rows[1].State);
    }
}
