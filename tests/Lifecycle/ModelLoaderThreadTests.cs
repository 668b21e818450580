using LowLatency.Engine.Serving;

namespace LowLatency.Tests.Lifecycle;

/// <summary>The loader thread at shutdown: queued work is answered at once, running work when abandoned, nothing runs after.</summary>
public sealed class ModelLoaderThreadTests
{
    [Fact]
    public async Task Stop_answers_the_queued_work_at_once_and_lets_the_running_work_finish()
    {
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        using var loader = new ModelLoaderThread();
        var running = loader.Run(() => { started.Set(); release.Wait(); return "ran"; }, s => s ? "abandoned while running" : "abandoned queued");
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        bool queuedRan = false;
        var queued = loader.Run(() => { queuedRan = true; return "ran"; }, s => s ? "abandoned while running" : "abandoned queued");

        loader.Stop();
        Assert.Equal("abandoned queued", await queued.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(running.IsCompleted);
        Assert.Equal("abandoned queued", await loader.Run(() => "ran", s => s ? "abandoned while running" : "abandoned queued"));

        release.Set();
        Assert.Equal("ran", await running.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(loader.Join(TimeSpan.FromSeconds(30)));
        Assert.False(queuedRan);
    }

    [Fact]
    public async Task Abandon_answers_the_running_work_now_and_drops_its_late_result()
    {
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        using var loader = new ModelLoaderThread();
        var running = loader.Run(() => { started.Set(); release.Wait(); return "ran"; }, s => s ? "abandoned while running" : "abandoned queued");
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));

        loader.Abandon();
        Assert.Equal("abandoned while running", await running.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(loader.AbandonToken.IsCancellationRequested);
        // Still inside its work (in libtorch, in the server): not waited for, and its result is dropped.
        Assert.False(loader.Join(TimeSpan.Zero));
        release.Set();
        Assert.True(loader.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal("abandoned while running", await running);
    }
}
