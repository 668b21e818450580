using System.Globalization;
using StackExchange.Redis;

namespace LowLatency.Streams.Sources;

/// <summary>
/// A partition read through its Redis consumer group. Reading resumes after the checkpoint's
/// position in three modes:
/// <list type="number">
/// <item><b>Claim</b>: every entry pending in the group, whoever it was delivered to (a process that
/// died, or one that lost the lease), is claimed for this member (XAUTOCLAIM with no minimum idle
/// time, JUSTID, until its cursor returns to 0-0).</item>
/// <item><b>Pending</b>: this member's pending entries after the position, in order (XREADGROUP with
/// an ID). After a claim they are every entry delivered and not checkpointed: a run of the stream
/// with no gap, since only a checkpoint acknowledges.</item>
/// <item><b>New</b>: entries never delivered (XREADGROUP &gt;), sent together with XRANGE of the one
/// entry that follows the position. When the first new entry is not that one, another consumer
/// took entries in between (a process that lost its lease and read once more): the batch stays
/// pending and reading goes back to Claim, so no entry is skipped and none is read out of order.</item>
/// </list>
/// Checkpoints are one script (<see cref="RedisStreamScripts.Checkpoint"/>) fenced by the lease's token.
/// </summary>
internal sealed class RedisPartitionLog : IPartitionLog
{
    private const int ClaimCount = 1000;

    private readonly IDatabase _db;
    private readonly RedisStreamKeys _keys;
    private readonly string _group;
    private readonly string _member;
    private readonly string _token;
    private readonly long _leaseMs;
    private RedisValue _position = "0-0";
    private RedisValue _lastCommitted = "0-0";
    private Mode _mode = Mode.Claim;

    public RedisPartitionLog(IDatabase db, RedisStreamKeys keys, string group, string member, int partition, long epoch, long leaseMs)
    {
        _db = db;
        _keys = keys;
        _group = group;
        _member = member;
        _leaseMs = leaseMs;
        Partition = partition;
        Epoch = epoch;
        _token = member + "/" + epoch.ToString(CultureInfo.InvariantCulture);
    }

    private enum Mode
    {
        Claim,
        Pending,
        New,
    }

    public int Partition { get; }

    public long Epoch { get; }

    public async Task<PartitionCheckpoint> LoadAsync()
    {
        var meta = await _db.HashGetAsync(_keys.Meta, ["position", "max_event_time"]).ConfigureAwait(false);
        var state = await _db.HashGetAllAsync(_keys.State).ConfigureAwait(false);
        _position = meta[0].IsNull ? "0-0" : meta[0];
        _lastCommitted = _position;
        _mode = Mode.Claim;
        long max = meta[1].IsNull ? long.MinValue : (long)meta[1];
        var keys = new (string, byte[])[state.Length];
        for (int i = 0; i < state.Length; i++)
        {
            keys[i] = (state[i].Name.ToString(), (byte[])state[i].Value!);
        }

        return new PartitionCheckpoint(max, _position.ToString(), keys);
    }

    public async Task<ISourceBatch> ReadAsync(int max)
    {
        if (_mode == Mode.Claim)
        {
            RedisValue cursor = "0-0";
            do
            {
                var claimed = await _db.StreamAutoClaimIdsOnlyAsync(_keys.Stream, _group, _member, 0, cursor, ClaimCount).ConfigureAwait(false);
                cursor = claimed.NextStartId;
            }
            while (cursor != "0-0");
            _mode = Mode.Pending;
        }

        if (_mode == Mode.Pending)
        {
            var pending = await _db.StreamReadGroupAsync(_keys.Stream, _group, _member, _position, max).ConfigureAwait(false);
            if (pending.Length > 0)
            {
                return Take(pending);
            }

            _mode = Mode.New;
        }

        var next = _db.StreamRangeAsync(_keys.Stream, "(" + _position.ToString(), "+", 1);
        var fresh = await _db.StreamReadGroupAsync(_keys.Stream, _group, _member, ">", max).ConfigureAwait(false);
        var expected = await next.ConfigureAwait(false);
        if (fresh.Length == 0)
        {
            return RedisSourceBatch.Empty;
        }

        if (expected.Length == 1 && expected[0].Id == fresh[0].Id)
        {
            return Take(fresh);
        }

        _mode = Mode.Claim;
        return RedisSourceBatch.Empty;
    }

    private RedisSourceBatch Take(StreamEntry[] entries)
    {
        _position = entries[^1].Id;
        return new RedisSourceBatch(entries);
    }

    public async Task<bool> RenewAsync() =>
        (long)await _db.ScriptEvaluateAsync(RedisStreamScripts.Renew, [_keys.Lease], [_token, _leaseMs]).ConfigureAwait(false) == 1;

    public Task ReleaseAsync() => _db.ScriptEvaluateAsync(RedisStreamScripts.Release, [_keys.Lease], [_token]);

    public async Task<bool> CommitAsync(CheckpointDelta delta)
    {
        int acks = delta.Entries;
        int deadPairs = 0;
        foreach (var d in delta.DeadLetters)
        {
            deadPairs += 1 + (2 * (4 + ((RedisSourceBatch)d.Batch).Entries[d.Index].Values.Length));
        }

        var args = new RedisValue[9 + delta.Deleted.Count + (2 * delta.Set.Count) + acks + deadPairs];
        RedisValue position = "0-0";
        int a = 0;
        args[a++] = _token;
        args[a++] = _group;
        a++;
        args[a++] = delta.MaxEventTime;
        args[a++] = Epoch;
        args[a++] = delta.Deleted.Count;
        args[a++] = delta.Set.Count;
        args[a++] = acks;
        args[a++] = delta.DeadLetters.Count;
        foreach (string field in delta.Deleted)
        {
            args[a++] = field;
        }

        foreach (var (field, value) in delta.Set)
        {
            args[a++] = field;
            args[a++] = value;
        }

        foreach (var batch in delta.Consumed)
        {
            foreach (var entry in ((RedisSourceBatch)batch).Entries)
            {
                args[a++] = entry.Id;
                position = entry.Id;
            }
        }

        foreach (var d in delta.DeadLetters)
        {
            var entry = ((RedisSourceBatch)d.Batch).Entries[d.Index];
            args[a++] = 4 + entry.Values.Length;
            args[a++] = "source_id";
            args[a++] = entry.Id;
            args[a++] = "partition";
            args[a++] = Partition;
            args[a++] = "view";
            args[a++] = d.View ?? string.Empty;
            args[a++] = "reason";
            args[a++] = d.Reason;
            foreach (var field in entry.Values)
            {
                args[a++] = field.Name;
                args[a++] = field.Value;
            }
        }

        // A checkpoint that consumed nothing keeps the position it had.
        args[2] = acks == 0 ? _lastCommitted : position;
        bool done = (long)await _db.ScriptEvaluateAsync(RedisStreamScripts.Checkpoint, [_keys.Lease, _keys.Meta, _keys.State, _keys.Stream, _keys.DeadLetters], args).ConfigureAwait(false) == 1;
        if (done && acks > 0)
        {
            _lastCommitted = position;
        }

        return done;
    }
}
