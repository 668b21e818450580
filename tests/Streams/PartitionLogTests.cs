using LowLatency.Streams.Events;
using LowLatency.Streams.Sources;
using LowLatency.Tests.Features;
using StackExchange.Redis;

namespace LowLatency.Tests.Streams;

/// <summary>
/// The Redis partition log against a process that lost its lease and goes on (a zombie): its
/// checkpoint is refused, and entries it reads after the new owner took over still reach the new
/// owner, in order, with no gap.
/// </summary>
public sealed class PartitionLogTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task A_zombie_cannot_checkpoint_and_entries_it_reads_late_still_reach_the_new_owner_in_order()
    {
        using var repo = new StreamRepository(redis.Port, partitions: 1);
        var db = redis.Db;
        var ids = new List<string>();
        async Task Append(int n)
        {
            for (int i = 0; i < n; i++)
            {
                ids.Add((await db.StreamAddAsync(repo.Source.PartitionStream(0), [new("user_id", 1), new("ts", 1_700_000_000_000 + ids.Count)])).ToString());
            }
        }

        await using var zombieSource = await RedisStreamSource.ConnectAsync(redis.ConnectionString, repo.Source, "g", "zombie", 60_000);
        await using var ownerSource = await RedisStreamSource.ConnectAsync(redis.ConnectionString, repo.Source, "g", "owner", 60_000);
        await Append(10);
        var zombie = (await zombieSource.TryAcquireAsync(0))!;
        await zombie.LoadAsync();
        var first = await ReadAllAsync(zombie);
        Assert.Equal(ids[..10], first);

        // The lease lapses (the zombie paused); the owner takes the partition from its checkpoint (none).
        Assert.Null(await ownerSource.TryAcquireAsync(0));
        await db.KeyDeleteAsync(new RedisStreamKeys(repo.Source, "g", 0).Lease);
        var owner = (await ownerSource.TryAcquireAsync(0))!;
        Assert.Equal(zombie.Epoch + 1, owner.Epoch);
        await owner.LoadAsync();

        // The owner has read the first 10 again (claimed from the zombie) when the zombie wakes,
        // reads 5 new entries, and tries to checkpoint: refused, nothing written.
        var taken = new List<string>(await ReadAllAsync(owner));
        await Append(5);
        Assert.Equal(ids[10..15], await ReadAllAsync(zombie));
        var delta = new CheckpointDelta { MaxEventTime = 1 };
        delta.Set.Add(("1", new byte[] { 1 }));
        Assert.False(await zombie.CommitAsync(delta));
        Assert.False(await db.KeyExistsAsync(new RedisStreamKeys(repo.Source, "g", 0).State));

        // The owner reads on: the zombie's 5 are pending with the zombie, and the next new entry is
        // not the one after its position, so it claims them and reads them first.
        await Append(5);
        taken.AddRange(await ReadAllAsync(owner));
        Assert.Equal(ids, taken);

        var commit = new CheckpointDelta { MaxEventTime = 2 };
        Assert.True(await owner.CommitAsync(commit));
        Assert.False(await zombie.RenewAsync());
        Assert.True(await owner.RenewAsync());
    }

    // Reads until nothing comes twice in a row (a read may return nothing while it switches mode).
    private static async Task<List<string>> ReadAllAsync(IPartitionLog log)
    {
        var ids = new List<string>();
        for (int empty = 0; empty < 2;)
        {
            var batch = await log.ReadAsync(3);
            empty = batch.Count == 0 ? empty + 1 : 0;
            for (int i = 0; i < batch.Count; i++)
            {
                ids.Add(batch.Id(i));
            }
        }

        return ids;
    }
}
