using System.Collections.Concurrent;

namespace LowLatency.Engine.Serving;

/// <summary>
/// The one thread that loads, warms and unloads models, off the request path: loads run one at a
/// time, in the order asked, so two loads of a model never race and a slow warm-up never runs on a
/// request or thread-pool thread.
/// </summary>
internal sealed class ModelLoaderThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public ModelLoaderThread()
    {
        _thread = new Thread(Run) { Name = "ll-model-loader", IsBackground = true };
        _thread.Start();
    }

    public Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
            {
                try
                {
                    done.SetResult(work());
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            done.SetException(new ObjectDisposedException(nameof(ModelLoaderThread), "the engine is shutting down"));
        }

        return done.Task;
    }

    /// <summary>Work queued and not yet finished (a poll is skipped while one is pending).</summary>
    public int Pending => _work.Count;

    private void Run()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }
}
