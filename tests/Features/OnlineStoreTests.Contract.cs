using System.Diagnostics;
using LowLatency.Features.Serving;
using LowLatency.Features.Store;

namespace LowLatency.Tests.Features;

public sealed partial class OnlineStoreTests
{
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_pushed_row_reads_back_with_its_event_time(string kind)
    {
        var repo = Repository();
        await using var store = await OpenAsync(kind, repo);
        var view = repo.FeatureView("user_activity")!;
        var time = Rows.Now().AddMinutes(-3);

        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, Rows.Write(view, 42, time, seed: 7)));
        var read = (await Rows.ReadAsync(store.Online, Rows.Read(view, 42)))[0];

        Assert.Equal(RowState.Found, read.State);
        Assert.Equal(Rows.Make(view, 7), read.Destination.ToArray());
        Assert.Equal(time, EventTime.FromMicros(read.EventTimeMicros));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task An_older_row_never_overwrites_a_newer_one(string kind)
    {
        var repo = Repository();
        await using var store = await OpenAsync(kind, repo);
        var view = repo.FeatureView("user_activity")!;
        var t = Rows.Now();

        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, Rows.Write(view, 1, t, seed: 2)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, Rows.Write(view, 1, t.AddTicks(-10), seed: 1)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, Rows.Write(view, 1, t, seed: 3)));
        Assert.Equal(Rows.Make(view, 2), (await Rows.ReadAsync(store.Online, Rows.Read(view, 1)))[0].Destination.ToArray());

        // One microsecond later is newer: the compare reads every byte of the event time.
        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, Rows.Write(view, 1, t.AddTicks(10), seed: 4)));
        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, Rows.Write(view, 1, t.AddYears(30), seed: 5)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, Rows.Write(view, 1, t.AddYears(29), seed: 6)));
        var read = (await Rows.ReadAsync(store.Online, Rows.Read(view, 1)))[0];
        Assert.Equal(Rows.Make(view, 5), read.Destination.ToArray());
        Assert.Equal(t.AddYears(30), EventTime.FromMicros(read.EventTimeMicros));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task At_one_event_time_a_higher_revision_replaces_the_row_and_an_equal_or_lower_one_does_not(string kind)
    {
        var repo = Repository();
        await using var store = await OpenAsync(kind, repo);
        var view = repo.FeatureView("user_activity")!;
        long t = EventTime.ToMicros(Rows.Now());
        RowWrite At(long time, int revision, int seed) => new(view, EntityKey.Of(1), time, Rows.Make(view, seed), revision);

        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, At(t, 2, 1)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, At(t, 2, 2)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, At(t, 1, 3)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, At(t - 1, RowLayout.MaxRevision, 4)));

        // Every byte of the revision counts, the most significant first.
        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, At(t, 3, 5)));
        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, At(t, 0x01_0000, 6)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, At(t, 0x00_FFFF, 7)));
        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, At(t, RowLayout.MaxRevision, 8)));

        // A later event time wins whatever its revision; a push (revision 0) at it is skipped once stored.
        Assert.Equal(new[] { true }, await Rows.WriteAsync(store.Online, At(t + 1, 0, 9)));
        Assert.Equal(new[] { false }, await Rows.WriteAsync(store.Online, At(t + 1, 0, 10)));
        var read = (await Rows.ReadAsync(store.Online, Rows.Read(view, 1)))[0];
        Assert.Equal(Rows.Make(view, 9), read.Destination.ToArray());
        Assert.Equal(t + 1, read.EventTimeMicros);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_row_older_than_its_views_ttl_is_outside_max_age(string kind)
    {
        var repo = Repository();
        await using var store = await OpenAsync(kind, repo);
        var now = Rows.Now();
        await store.Server.PushAsync(Push.UserActivity([5, 6], [now.AddDays(-2), now.AddHours(-1)]));
        await store.Server.PushAsync(Push.ItemStatic([9], [now.AddYears(-3)]));

        var user = await store.Server.GetOnlineFeaturesAsync(new GetOnlineFeaturesRequest
        {
            Features = ["user_activity:ctr_24h"],
            Entities = new Dictionary<string, IReadOnlyList<object?>> { ["user_id"] = [5L, 6L, 7L] },
        });
        var item = await store.Server.GetOnlineFeaturesAsync(new GetOnlineFeaturesRequest
        {
            Features = ["item_static:price"],
            Entities = new Dictionary<string, IReadOnlyList<object?>> { ["item_id"] = [9L] },
        });

        Assert.Equal([FieldStatus.OutsideMaxAge, FieldStatus.Present, FieldStatus.NotFound], user.Results[1].Statuses);
        Assert.Equal([0.5f, 0.6f, null], user.Results[1].Values);
        Assert.Equal([now.AddDays(-2), now.AddHours(-1), DateTimeOffset.UnixEpoch], user.Results[1].EventTimestamps);
        Assert.Equal(FieldStatus.Present, item.Results[1].Statuses[0]);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_store_forgets_a_row_one_ttl_after_writing_it(string kind)
    {
        var repo = Repository(t => t.Edit("user.json", n => n["feature_views"]![0]!["ttl_seconds"] = 1));
        await using var store = await OpenAsync(kind, repo);
        var view = repo.FeatureView("user_activity")!;
        await Rows.WriteAsync(store.Online, Rows.Write(view, 3, Rows.Now(), seed: 1));

        Assert.Equal(RowState.Found, (await Rows.ReadAsync(store.Online, Rows.Read(view, 3)))[0].State);
        var forgotten = Stopwatch.StartNew();
        while ((await Rows.ReadAsync(store.Online, Rows.Read(view, 3)))[0].State != RowState.NotFound)
        {
            // The store's own expiry (Redis may take up to its active-expire cycle past the second).
            Assert.True(forgotten.Elapsed < TimeSpan.FromSeconds(30), "the row was still found 30 s after its 1 s ttl");
            await Task.Delay(20);
        }

    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_missing_row_is_not_found_and_its_destination_untouched(string kind)
    {
        var repo = Repository();
        await using var store = await OpenAsync(kind, repo);
        var view = repo.FeatureView("item_static")!;
        var destination = Enumerable.Repeat((byte)0xAB, view.RowBytes).ToArray();

        var read = (await Rows.ReadAsync(store.Online, new RowRead(view, EntityKey.Of(404), destination)))[0];

        Assert.Equal(RowState.NotFound, read.State);
        Assert.All(destination, b => Assert.Equal(0xAB, b));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task One_read_of_many_entities_and_views_is_one_command_per_slot_sent_at_once(string kind)
    {
        var repo = Repository();
        await using var store = await OpenAsync(kind, repo);
        var users = repo.FeatureView("user_activity")!;
        var items = repo.FeatureView("item_static")!;
        var now = Rows.Now();
        var writes = Enumerable.Range(1, 150).SelectMany(i => new[] { Rows.Write(users, i, now, seed: i), Rows.Write(items, i, now, seed: 1000 + i) }).ToArray();
        Assert.All(await Rows.WriteAsync(store.Online, writes), Assert.True);

        var connection = store.Stores[0].Connection;
        var session = new StackExchange.Redis.Profiling.ProfilingSession();
        connection.RegisterProfiler(() => session);
        var reads = Enumerable.Range(1, 150).SelectMany(i => new[] { Rows.Read(users, i), Rows.Read(items, i) }).ToArray();
        await store.Online.ReadAsync(reads);
        var commands = session.FinishProfiling().ToList();
        connection.RegisterProfiler(() => null);

        for (int i = 0; i < reads.Length; i++)
        {
            Assert.Equal(RowState.Found, reads[i].State);
            Assert.Equal(Rows.Make(reads[i].View, (i % 2 == 0 ? 0 : 1000) + (i / 2) + 1), reads[i].Destination.ToArray());
        }

        Assert.All(commands, c => Assert.Equal("MGET", c.Command));
        if (kind == StoreFixtures.Cluster)
        {
            // A user's and an item's rows with one id share a hash tag only by chance; 300 keys fall on
            // at most 300 slots, across all three nodes.
            Assert.InRange(commands.Count, 3, 300);
            Assert.Equal(3, commands.Select(c => c.EndPoint.ToString()).Distinct().Count());
        }
        else
        {
            Assert.Single(commands);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_row_written_under_another_layout_reads_as_not_found_and_is_replaced_whatever_its_time(string kind)
    {
        string project = "t" + Guid.NewGuid().ToString("N")[..12];
        var before = Repository(t => t.Edit("feature_store.json", n => n["project"] = project));
        var after = Repository(t =>
        {
            t.Edit("feature_store.json", n => n["project"] = project);
            t.Edit("item.json", n => n["feature_views"]![0]!["schema"]![3]!["dtype"] = "FP64");
        });
        await using var old = await OpenAsync(kind, before);
        await using var current = await OpenAsync(kind, after);
        var now = Rows.Now();
        await Rows.WriteAsync(old.Online, Rows.Write(before.FeatureView("item_static")!, 8, now, seed: 1));

        var view = after.FeatureView("item_static")!;
        Assert.Equal(RowState.NotFound, (await Rows.ReadAsync(current.Online, Rows.Read(view, 8)))[0].State);
        Assert.Equal(new[] { true }, await Rows.WriteAsync(current.Online, Rows.Write(view, 8, now.AddDays(-1), seed: 2)));
        Assert.Equal(Rows.Make(view, 2), (await Rows.ReadAsync(current.Online, Rows.Read(view, 8)))[0].Destination.ToArray());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task String_ids_round_trip_whatever_bytes_they_hold(string kind)
    {
        var repo = Repository(t => t.Edit("user.json", n =>
        {
            n["entities"]![0]!["value_type"] = "STRING";
        }));
        await using var store = await OpenAsync(kind, repo);
        var view = repo.FeatureView("user_activity")!;
        string[] ids = ["a}b{c", "{x}", "ünï-42", "7", new string('k', 1024)];
        var now = Rows.Now();
        var writes = ids.Select((id, i) => new RowWrite(view, EntityKey.Of(id), EventTime.ToMicros(now), Rows.Make(view, i))).ToArray();
        Assert.All(await Rows.WriteAsync(store.Online, writes), Assert.True);

        var reads = ids.Select(id => new RowRead(view, EntityKey.Of(id), new byte[view.RowBytes])).ToArray();
        await store.Online.ReadAsync(reads);

        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(RowState.Found, reads[i].State);
            Assert.Equal(Rows.Make(view, i), reads[i].Destination.ToArray());
        }

        Assert.Equal(RowState.NotFound, (await Rows.ReadAsync(store.Online, new RowRead(view, EntityKey.Of("a}b"), new byte[view.RowBytes])))[0].State);
        await Assert.ThrowsAsync<ArgumentException>(async () => await Rows.WriteAsync(store.Online, new RowWrite(view, EntityKey.Of(new string('k', 1025)), 0, Rows.Make(view, 0))));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Every_view_of_one_entity_lies_on_one_slot(string kind)
    {
        var repo = Repository(t => t.Write("profile.json", """
            { "format_version": 1, "feature_views": [ { "name": "user_profile", "entities": ["user"], "schema": [ { "name": "age", "dtype": "INT32" } ] } ] }
            """));
        await using var store = await OpenAsync(kind, repo);
        var keys = store.Stores[0].Keys;
        var activity = keys.Key(repo.FeatureView("user_activity")!, EntityKey.Of(42));
        var profile = keys.Key(repo.FeatureView("user_profile")!, EntityKey.Of(42));
        var db = store.Stores[0].Connection.GetDatabase();

        Assert.EndsWith(":user_activity:{user_id=42}", System.Text.Encoding.UTF8.GetString(activity), StringComparison.Ordinal);
        Assert.Equal(store.Stores[0].Connection.HashSlot(activity), store.Stores[0].Connection.HashSlot(profile));
        if (kind == StoreFixtures.Cluster)
        {
            // The cluster's own slot of each key, and one multi-key command over both.
            var node = fixtures.RedisCluster.Nodes[0];
            string slot = node.Cli("cluster", "keyslot", System.Text.Encoding.UTF8.GetString(activity));
            Assert.Equal(store.Stores[0].Connection.HashSlot(activity).ToString(System.Globalization.CultureInfo.InvariantCulture), slot.Trim());
            Assert.Equal(slot, node.Cli("cluster", "keyslot", System.Text.Encoding.UTF8.GetString(profile)));
            Assert.Equal(2, (await db.StringGetAsync([activity, profile])).Length);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_redis_type_that_is_not_the_servers_stops_the_start(string kind)
    {
        var repo = Repository();
        var definition = fixtures.Get(kind).Store();
        definition = new() { Name = definition.Name, Kind = definition.Kind, ConnectionString = definition.ConnectionString, RedisType = kind == StoreFixtures.Cluster ? LowLatency.Features.Definitions.RedisTopology.Standalone : LowLatency.Features.Definitions.RedisTopology.Cluster };

        var e = await Assert.ThrowsAsync<LowLatency.Features.Definitions.FeatureRepositoryException>(() => FeatureStore.OpenAsync(repo, new FeatureStoreOptions { OnlineStores = [definition] }));

        Assert.Equal("online_stores.default.redis_type", e.Field);
    }

    [Fact]
    public void The_example_keys_are_as_documented()
    {
        var repo = LowLatency.Features.Definitions.FeatureRepositoryReader.Read(TempFeatureRepository.Example);
        var keys = new RedisKeyLayout(repo);

        Assert.Equal("ranking:user_activity:{user_id=42}", System.Text.Encoding.UTF8.GetString(keys.Key(repo.FeatureView("user_activity")!, EntityKey.Of(42))));
        Assert.Equal("ranking:item_static:{item_id=-7}", System.Text.Encoding.UTF8.GetString(keys.Key(repo.FeatureView("item_static")!, EntityKey.Of(-7))));
        Assert.Throws<ArgumentException>(() => keys.Key(repo.FeatureView("item_static")!, EntityKey.Of("7")));
    }
}
