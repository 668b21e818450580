using System.Diagnostics;
using System.Globalization;
using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Features.Store;

// Latency and managed allocation of one feature read at concurrency 1: two rows (a user's and an
// item's) or 32 (16 of each), from the near cache, and from the store with no cache: the embedded
// Garnet, and a redis-server when one is named (--redis 127.0.0.1:PORT). Rounds interleave the
// targets; each line is one round's p50 / p99 over its reads. Allocation counts every thread's
// bytes (SE.Redis completes replies on its own), divided by the reads.
string? redis = args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault();
int reads = int.Parse(args.SkipWhile(a => a != "--reads").Skip(1).FirstOrDefault() ?? "20000", CultureInfo.InvariantCulture);
int rounds = int.Parse(args.SkipWhile(a => a != "--rounds").Skip(1).FirstOrDefault() ?? "3", CultureInfo.InvariantCulture);

string root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "LowLatency.sln")))
{
    root = Path.GetDirectoryName(root)!;
}

var repository = FeatureRepositoryReader.Read(Path.Combine(root, "feature_repo"));
var users = repository.FeatureView("user_activity")!;
var items = repository.FeatureView("item_static")!;
var targets = new List<(string Name, FeatureStore Store)>
{
    ("garnet (embedded)", await FeatureStore.OpenAsync(repository, new FeatureStoreOptions { NearCache = new NearCacheSettings { MaxStaleness = TimeSpan.FromHours(1) } })),
};
if (redis is not null)
{
    targets.Add(("redis-server", await FeatureStore.OpenAsync(repository, new FeatureStoreOptions
    {
        OnlineStores = [new OnlineStoreDefinition { Name = "default", Kind = OnlineStoreKind.Redis, ConnectionString = redis }],
        NearCache = new NearCacheSettings { MaxStaleness = TimeSpan.FromHours(1) },
    })));
}

long now = EventTime.ToMicros(DateTimeOffset.UtcNow);
foreach (var (_, store) in targets)
{
    var writes = Enumerable.Range(1, 16).SelectMany(i => new RowWrite[] { new(users, EntityKey.Of(i), now, users.DefaultRow), new(items, EntityKey.Of(i), now, items.DefaultRow) }).ToArray();
    await store.Online.WriteAsync(writes, new bool[writes.Length]);
}

RowRead[] Rows(int pairs) => Enumerable.Range(1, pairs).SelectMany(i => new[] { new RowRead(users, EntityKey.Of(i), new byte[users.RowBytes]), new RowRead(items, EntityKey.Of(i), new byte[items.RowBytes]) }).ToArray();

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{reads} reads per round, {rounds} rounds, {Environment.ProcessorCount} cores, .NET {Environment.Version}"));
Console.WriteLine();
Console.WriteLine("| round | target | rows | path | p50 µs | p99 µs | B/read |");
Console.WriteLine("|---|---|---|---|---|---|---|");
for (int round = 1; round <= rounds; round++)
{
    foreach (var (name, store) in targets)
    {
        foreach (int pairs in new[] { 1, 16 })
        {
            await MeasureAsync(round, name, "store (miss)", pairs, store.Stores[0]);
            await MeasureAsync(round, name, "near cache (hit)", pairs, store.Online);
        }
    }
}

foreach (var (_, store) in targets)
{
    await store.DisposeAsync();
}

async Task MeasureAsync(int round, string target, string path, int pairs, IOnlineStore store)
{
    var rows = Rows(pairs);
    var times = new double[reads];
    for (int warm = 0; warm < 1000; warm++)
    {
        await ReadAsync(store, rows);
    }

    GC.Collect();
    long allocated = GC.GetTotalAllocatedBytes(precise: true);
    for (int i = 0; i < reads; i++)
    {
        long start = Stopwatch.GetTimestamp();
        await ReadAsync(store, rows);
        // Raw ticks: a TimeSpan would round to 0.1 µs.
        times[i] = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency;
    }

    long bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / reads;
    Array.Sort(times);
    if (rows.Any(r => r.State != RowState.Found))
    {
        throw new InvalidOperationException($"{target} {path}: a row was not found");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {round} | {target} | {rows.Length} | {path} | {times[reads / 2]:F2} | {times[reads * 99 / 100]:F2} | {bytes} |"));
}

static ValueTask ReadAsync(IOnlineStore store, RowRead[] rows)
{
    for (int i = 0; i < rows.Length; i++)
    {
        rows[i].State = RowState.Pending;
    }

    return store.ReadAsync(rows);
}
