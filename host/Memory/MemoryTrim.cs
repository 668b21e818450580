using LowLatency.Native.Memory;

namespace LowLatency.Host.Memory;

/// <summary>
/// Gives a burst's memory back to the system once the burst is over. The request path allocates
/// next to nothing, so after a burst of large bodies no collection would run for as long as traffic
/// stays ordinary: the spare blocks the burst needed (<see cref="BoundedBlockPool"/>), its large
/// strings, and the heap the GC committed for them would stay resident. Every half second, off the request path,
/// this looks at two counters: bytes allocated (<see cref="GC.GetTotalAllocatedBytes"/>) and bytes of
/// request bodies held (<see cref="BodyBudget"/>). When either reached the burst size, a burst is
/// on; at the first look after it where both have fallen: Kestrel's spare blocks dropped, one full
/// blocking collection that compacts and decommits (<see cref="GCCollectionMode.Aggressive"/>), then
/// glibc's trim of the C heap. At most one trim every 2 s, so that bursts in a row cost at most that.
/// </summary>
internal sealed partial class MemoryTrim(BodyBudget bodies, BoundedBlockPoolFactory pools, long burstBytes, ILogger<MemoryTrim> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (burstBytes > 0)
        {
            _loop = Task.Run(LoopAsync, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Every);
        var decide = new BurstWatch(burstBytes, MinInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (decide.ShouldTrim(GC.GetTotalAllocatedBytes(precise: false), bodies.HeldBytes, TimeProvider.System.GetTimestamp()))
                {
                    Trim();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Trim()
    {
        long before = Environment.WorkingSet;
        long started = TimeProvider.System.GetTimestamp();
        pools.DropSpare();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
        var gc = GC.GetGCMemoryInfo(GCKind.Any);
        LogTrimmed(logger, before >> 20, Environment.WorkingSet >> 20, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds, gc.HeapSizeBytes >> 20, gc.TotalCommittedBytes >> 20);
    }

    public void Dispose() => _stop.Dispose();

    [LoggerMessage(EventId = 1005, EventName = "MemoryTrimmed", Level = LogLevel.Information, Message = "memory given back after a burst: resident {BeforeMiB} -> {AfterMiB} MiB in {Milliseconds:F1} ms; managed heap {HeapMiB} MiB, {CommittedMiB} MiB committed")]
    private static partial void LogTrimmed(ILogger logger, long beforeMiB, long afterMiB, double milliseconds, long heapMiB, long committedMiB);
}
