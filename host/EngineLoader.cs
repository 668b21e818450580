using LowLatency.Engine.Serving;
using Microsoft.Extensions.Hosting.Systemd;

namespace LowLatency.Host;

/// <summary>
/// Loads the models on a thread of its own once the host starts, so liveness answers at once and
/// readiness turns true only when every model is loaded and warm. A model that fails to load stops
/// the server with exit code 1 (as Triton does with strict start-up). On shutdown, after Kestrel has
/// drained its requests, the engine answers whatever is still queued and releases the models. The
/// drain deadline (<see cref="ServerOptions.DrainDeadline"/> after SIGTERM) bounds all of it: loads
/// queued are answered 503 at once, and a load still running is answered 503 just before the deadline.
/// Under a <c>Type=notify</c> unit the service manager hears READY=1 when readiness turns true (not
/// when the host starts, as Microsoft.Extensions.Hosting.Systemd's lifetime would say it) and
/// STOPPING=1 when the drain starts.
/// </summary>
internal sealed partial class EngineLoader(InferenceEngine engine, IHostApplicationLifetime lifetime, ServerOptions options, Endpoints.Unanswered unanswered, Memory.BodyBudget bodies, ISystemdNotifier notifier, Handover handover, ILogger<EngineLoader> logger) : IHostedService
{
    private Thread? _thread;
    private Timer? _abandonLoads;
    private long _stoppingAt;
    private string? _failure;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Runs before Kestrel stops accepting and drains: from here on readiness is false and new
        // requests get 503, while the ones already accepted are answered (bounded by
        // LowLatency:DrainTimeoutSeconds).
        lifetime.ApplicationStopping.Register(() =>
        {
            _stoppingAt = System.Diagnostics.Stopwatch.GetTimestamp();
            Notify(ServiceState.Stopping);
            // A load outlasting the drain would be cut by Kestrel at the deadline: its client hears 503
            // a little before, while its connection is still served.
            if (options.DrainDeadline != Timeout.InfiniteTimeSpan)
            {
                _abandonLoads = new Timer(_ => engine.AbandonLoads(), null, options.DrainDeadline - options.AnswerMargin, Timeout.InfiniteTimeSpan);
            }

            if (handover.Leaving)
            {
                // A process beside this one serves the port and takes the new connections: nothing is
                // refused while every answer closes its connection, until none is open (or the timeout);
                // Kestrel stops accepting as this returns.
                LogLeaving(logger);
                LogLeft(logger, handover.WaitForConnectionsClosed(TimeSpan.FromSeconds(options.LeaveTimeoutSeconds)));
                // What is still open (a stream, a client idle all along) is then served as in a stop:
                // streams end, and a request that comes now gets a 503 to retry rather than a cut connection.
                engine.BeginStopping();
                return;
            }

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
        if (handover.Replacing)
        {
            // Beside a process that serves the port: Kestrel starts (and listens) after this returns, so
            // only once the models are warm; a failed load leaves the old process untouched.
            _thread.Join();
            if (_failure is { } reason)
            {
                throw new StartupRefusedException($"model loading failed, so the process in {handover.PidFile} keeps serving: {reason}");
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Kestrel has answered or cut every request: a load still running (at start-up, or a poll's)
        // has no client left to wait for, and the deadline is for the whole process.
        _abandonLoads?.Dispose();
        if (!engine.IsStopping)
        {
            engine.BeginStopping();
        }

        // Waited for up to the deadline: an abandoned load stops between warm-up batches, and exiting
        // while it runs inside libtorch could crash the process in libtorch's static destructors.
        if (!engine.StopLoads(Remaining()))
        {
            LogLoaderStillRunning(logger);
            NativeTeardown.SkipAtExit();
        }

        _thread?.Join();
        engine.Dispose();
        // The last answers are published on the thread pool: give them a moment before counting.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((engine.InFlight > 0 || bodies.InProgress > 0) && waited.ElapsedMilliseconds < 1000)
        {
            Thread.Sleep(1);
        }

        // Inference and repository requests in progress are counted from admission (the body budget),
        // so those still reading their body count too; the engine's own count covers what it was
        // handed otherwise.
        LogStopped(logger, (int)Math.Min(int.MaxValue, Math.Max(engine.InFlight, bodies.InProgress) + unanswered.Cut));
        handover.Exiting();
        return Task.CompletedTask;
    }

    /// <summary>What is left of the drain deadline (at least nothing).</summary>
    private TimeSpan Remaining()
    {
        if (options.DrainDeadline == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var left = options.DrainDeadline - System.Diagnostics.Stopwatch.GetElapsedTime(_stoppingAt);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private void Load()
    {
        try
        {
            engine.Load(e => Diagnostics.EngineEventLog.Write(logger, e));
            LogReady(logger, engine.Models.Count);
            // Ready once Kestrel listens too: at once if it already does (a registration on a fired token runs now).
            lifetime.ApplicationStarted.Register(() =>
            {
                if (!engine.IsStopping)
                {
                    Notify(ServiceState.Ready);
                    // The process this one replaces gets its drain deadline (the same settings) and a margin to exit.
                    handover.Ready(logger, options.DrainDeadline == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : options.DrainDeadline + TimeSpan.FromSeconds(10));
                }
            });
        }
        catch (OperationCanceledException) when (engine.IsStopping)
        {
            LogLoadAbandoned(logger);
        }
        catch (Exception e)
        {
            LogFailed(logger, e.Message, e);
            Environment.ExitCode = 1;
            if (handover.Replacing)
            {
                _failure = e.Message;
                return;
            }

            // Loading can fail before Kestrel has finished starting; stopping then would cancel the
            // start and surface as an unhandled exception. Stop once started (at once if it is).
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
        }
    }

    private void Notify(ServiceState state)
    {
        if (notifier.IsEnabled)
        {
            notifier.Notify(state);
        }
    }

    // Event ids 1000 and up: the host's own lines (the engine's events are 1100 and up, EngineEventLog),
    // fixed so that a log pipeline can filter on them; left unset, the generator derives one from the
    // method's name, which a rename changes.
    [LoggerMessage(EventId = 1002, EventName = "Stopping", Level = LogLevel.Information, Message = "shutting down: not ready, refusing new requests, answering the accepted ones")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(EventId = 1006, EventName = "Leaving", Level = LogLevel.Information, Message = "leaving for the process beside this one (SIGUSR2): every answer closes its connection, new connections go to that process")]
    private static partial void LogLeaving(ILogger logger);

    [LoggerMessage(EventId = 1007, EventName = "Left", Level = LogLevel.Information, Message = "leaving: {Open} connections still open, closed now as Kestrel stops")]
    private static partial void LogLeft(ILogger logger, long open);

    [LoggerMessage(EventId = 1003, EventName = "Stopped", Level = LogLevel.Information, Message = "stopped: {Unanswered} accepted requests unanswered")]
    private static partial void LogStopped(ILogger logger, int unanswered);

    [LoggerMessage(EventId = 1004, EventName = "StartupLoadAbandoned", Level = LogLevel.Information, Message = "shut down while loading models at start-up: the loading was abandoned")]
    private static partial void LogLoadAbandoned(ILogger logger);

    [LoggerMessage(EventId = 1008, EventName = "LoaderStillRunning", Level = LogLevel.Warning, Message = "a model load abandoned at the drain deadline is still inside libtorch: the process ends without the native libraries' teardown")]
    private static partial void LogLoaderStillRunning(ILogger logger);

    [LoggerMessage(EventId = 1000, EventName = "Ready", Level = LogLevel.Information, Message = "ready: {Count} models loaded")]

    private static partial void LogReady(ILogger logger, int count);

    [LoggerMessage(EventId = 1001, EventName = "StartupLoadFailed", Level = LogLevel.Critical, Message = "model loading failed, stopping: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, Exception e);
}
