using LowLatency.Engine.Serving;

namespace LowLatency.Host;

/// <summary>
/// Loads the models on a thread of its own once the host starts, so liveness answers at once and
/// readiness turns true only when every model is loaded and warm. A model that fails to load stops
/// the server with exit code 1 (as Triton does with strict start-up). On shutdown, after Kestrel has
/// drained its requests, the engine answers whatever is still queued and releases the models.
/// </summary>
internal sealed partial class EngineLoader(InferenceEngine engine, IHostApplicationLifetime lifetime, ServerOptions options, ILogger<EngineLoader> logger) : IHostedService
{
    private Thread? _thread;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Runs before Kestrel stops accepting and drains: from here on readiness is false and new
        // requests get 503, while the ones already accepted are answered (bounded by
        // LowLatency:DrainTimeoutSeconds).
        lifetime.ApplicationStopping.Register(() =>
        {
            engine.BeginStopping();
            LogStopping(logger);
            // Kestrel keeps accepting until this callback returns: the drain delay keeps the 503s
            // flowing while the load balancer notices readiness is gone.
            if (options.DrainDelaySeconds > 0)
            {
                Thread.Sleep(TimeSpan.FromSeconds(options.DrainDelaySeconds));
            }
        });
        _thread = new Thread(Load) { Name = "ll-model-loader", IsBackground = true };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _thread?.Join();
        engine.Dispose();
        // The last answers are published on the thread pool: give them a moment before counting.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (engine.InFlight > 0 && waited.ElapsedMilliseconds < 1000)
        {
            Thread.Sleep(1);
        }

        LogStopped(logger, engine.InFlight);
        return Task.CompletedTask;
    }

    private void Load()
    {
        try
        {
            engine.Load(e => Diagnostics.EngineEventLog.Write(logger, e));
            LogReady(logger, engine.Models.Count);
        }
        catch (Exception e)
        {
            LogFailed(logger, e.Message, e);
            Environment.ExitCode = 1;
            // Loading can fail before Kestrel has finished starting; stopping then would cancel the
            // start and surface as an unhandled exception. Stop once started (at once if it is).
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
        }
    }

    // Event ids 1000 and up: the host's own lines (the engine's events are 1100 and up, EngineEventLog),
    // fixed so that a log pipeline can filter on them; left unset, the generator derives one from the
    // method's name, which a rename changes.
    [LoggerMessage(EventId = 1002, EventName = "Stopping", Level = LogLevel.Information, Message = "shutting down: not ready, refusing new requests, answering the accepted ones")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(EventId = 1003, EventName = "Stopped", Level = LogLevel.Information, Message = "stopped: {Unanswered} accepted requests unanswered")]
    private static partial void LogStopped(ILogger logger, int unanswered);

    [LoggerMessage(EventId = 1000, EventName = "Ready", Level = LogLevel.Information, Message = "ready: {Count} models loaded")]
    private static partial void LogReady(ILogger logger, int count);

    [LoggerMessage(EventId = 1001, EventName = "StartupLoadFailed", Level = LogLevel.Critical, Message = "model loading failed, stopping: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, Exception e);
}
