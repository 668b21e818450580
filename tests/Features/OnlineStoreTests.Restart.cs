using System.Diagnostics;
using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Features.Store;

namespace LowLatency.Tests.Features;

public sealed partial class OnlineStoreTests
{
    /// <summary>
    /// No read is stuck, server up or down: each ends within a bound far above the store's read
    /// timeout (500 ms), which a loaded shared machine stretches (1.5 s was seen with the suite at a
    /// load of 20 on 2 cores); a read held until the node came back (seconds) still fails it.
    /// </summary>
    private static readonly TimeSpan ReadBound = TimeSpan.FromSeconds(4);


    [RedisFact]
    public async Task While_a_cluster_node_restarts_its_rows_are_unavailable_the_others_served_and_all_recover()
    {
        var cluster = fixtures.RedisCluster;
        var repo = Repository();
        await using var store = await OpenAsync(StoreFixtures.Cluster, repo);
        var view = repo.FeatureView("user_activity")!;
        var now = Rows.Now();
        var writes = Enumerable.Range(1, 300).Select(i => Rows.Write(view, i, now, seed: i)).ToArray();
        Assert.All(await Rows.WriteAsync(store.Online, writes), Assert.True);

        await using var reader = new ReadLoop(store.Online, view, 300);
        await reader.WaitForAsync(r => r.Found == 300, "every row found before the restart");

        var node = cluster.Nodes[1];
        node.Kill();
        var down = await reader.WaitForAsync(r => r.Unavailable > 0, "the stopped node's rows unavailable");
        Assert.InRange(down.Unavailable, 1, 299);
        Assert.Equal(300, down.Unavailable + down.Found);

        node.Start();
        cluster.WaitUntilOk();

        // The node comes back empty (no persistence): its rows are not found until pushed again.
        var back = await reader.WaitForAsync(r => r.Unavailable == 0 && r.NotFound > 0, "the restarted node answering");
        Assert.Equal(down.Unavailable, back.NotFound);
        await Rows.WriteAsync(store.Online, writes);
        await reader.WaitForAsync(r => r.Found == 300, "every row found after the restart");

        var summary = await reader.StopAsync();
        Assert.True(summary.Longest < ReadBound, $"a read took {summary.Longest}; reads over 300 ms: {summary.Slow}");
        Assert.Equal(0, summary.Exceptions);
    }

    [RedisFact]
    public async Task While_redis_restarts_cached_rows_still_serve_the_rest_is_unavailable_and_all_recover()
    {
        var redis = fixtures.RedisServer.Server;
        var repo = Repository();
        var cache = new NearCacheSettings { MaxStaleness = TimeSpan.FromMilliseconds(50) };
        await using var store = await OpenAsync(StoreFixtures.Redis, repo, cache);
        var view = repo.FeatureView("user_activity")!;
        var now = Rows.Now();
        var writes = Enumerable.Range(1, 100).Select(i => Rows.Write(view, i, now, seed: i)).ToArray();
        Assert.All(await Rows.WriteAsync(store.Online, writes), Assert.True);

        // Rows 1-50 are read (and cached) before the stop; 51-100 only after.
        await Rows.ReadAsync(store.Online, Enumerable.Range(1, 50).Select(i => Rows.Read(view, i)).ToArray());
        redis.Kill();
        await using (var reader = new ReadLoop(store.Online, view, 100))
        {
            // Once their 50 ms of staleness are over, the cached rows are asked for again, and served
            // from the cache when the store does not answer.
            await Task.Delay(100);
            var down = await reader.WaitForAsync(r => r.Unavailable == 50 && store.Cache.Statistics.StaleServed > 0, "the cached rows served stale, the others unavailable");
            Assert.Equal(50, down.Found);

            var push = await Assert.ThrowsAsync<FeatureServerException>(async () => await store.Server.PushAsync(Push.UserActivity([1], [now.AddSeconds(1)])));
            Assert.Equal(FeatureErrorKind.Unavailable, push.Kind);

            redis.Start();
            await reader.WaitForAsync(r => r.Unavailable == 0, "redis answering again");
            await Rows.WriteAsync(store.Online, writes);
            await reader.WaitForAsync(r => r.Found == 100, "every row found after the restart");
            var summary = await reader.StopAsync();
            Assert.True(summary.Longest < ReadBound, $"a read took {summary.Longest}; reads over 300 ms: {summary.Slow}");
            Assert.Equal(0, summary.Exceptions);
        }
    }

    /// <summary>Reads ids 1..n of a view over and over until stopped, keeping the last read's counts and the longest read.</summary>
    private sealed class ReadLoop : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private volatile Counts _last = new(0, 0, 0);
        private TimeSpan _longest;
        private readonly Stopwatch _since = Stopwatch.StartNew();
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _slow = new();
        private int _exceptions;

        public ReadLoop(IOnlineStore store, FeatureView view, int n)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var rows = Enumerable.Range(1, n).Select(i => Rows.Read(view, i)).ToArray();
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        await store.ReadAsync(rows);
                    }
                    catch (Exception)
                    {
                        Interlocked.Increment(ref _exceptions);
                    }

                    _longest = clock.Elapsed > _longest ? clock.Elapsed : _longest;
                    if (clock.Elapsed > TimeSpan.FromMilliseconds(300))
                    {
                        _slow.Enqueue($"at {_since.Elapsed.TotalMilliseconds:F0} ms, {clock.Elapsed.TotalMilliseconds:F0} ms long, {rows.Count(r => r.State == RowState.Unavailable)} unavailable");
                    }
                    _last = new Counts(rows.Count(r => r.State == RowState.Found), rows.Count(r => r.State == RowState.NotFound), rows.Count(r => r.State == RowState.Unavailable));
                    await Task.Delay(10);
                }
            });
        }

        public async Task<Counts> WaitForAsync(Func<Counts, bool> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!condition(_last))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"waited 20 s for {what}; last read: {_last}");
                await Task.Delay(20);
            }

            return _last;
        }

        public async Task<(TimeSpan Longest, int Exceptions, string Slow)> StopAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            return (_longest, _exceptions, _slow.IsEmpty ? "none" : string.Join("; ", _slow));
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }

    private sealed record Counts(int Found, int NotFound, int Unavailable);
}
