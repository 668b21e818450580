namespace LowLatency.Tests.Hostile;

/// <summary>
/// Ordinary requests one after another while a test runs its burst, the server's resident memory
/// sampled after each. They allocate next to nothing, so on their own they would never make the
/// runtime collect the burst's garbage: what gives the memory back must be the server's own trim.
/// </summary>
internal sealed class BackgroundTraffic : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _served;
    private long _peak;

    /// <param name="peak">The resident memory to start the peak from (the reading before the burst).</param>
    public BackgroundTraffic(HostileServer server, Func<Task> request, long peak)
    {
        _peak = peak;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                await request();
                Interlocked.Increment(ref _served);
                Volatile.Write(ref _peak, Math.Max(Volatile.Read(ref _peak), server.ResidentBytes()));
                await Task.Delay(2);
            }
        });
    }

    public int Served => Volatile.Read(ref _served);

    /// <summary>The highest resident memory seen so far.</summary>
    public long Peak => Volatile.Read(ref _peak);

    /// <summary>Stops the requests and waits for the last one (whose failure fails the test).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}
