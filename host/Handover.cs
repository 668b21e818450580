using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.InteropServices;
using LowLatency.Native.Processes;

namespace LowLatency.Host;

/// <summary>
/// Replacing the server process on the same port without refusing a request (with
/// <c>LowLatency:ReusePort</c>, <see cref="ReusePort"/>). The new process, started with the same URLs
/// and <c>LowLatency:PidFile</c>, binds beside the old one, loads and warms its models, and only once it
/// is ready sends the process the pid file names SIGUSR2 (leave), writes its own pid there, and waits
/// for the old one to exit. A lock on <c>&lt;PidFile&gt;.lock</c>, held from start until then, keeps
/// two replacements from interleaving: a second new process started meanwhile refuses to start. A new
/// process that fails to become ready exits without having touched the old one, which serves on.
/// SIGUSR2 makes a server leave: Kestrel stops accepting (new connections go to the process beside it),
/// every request already accepted is answered as usual, not refused, with <c>Connection: close</c>
/// (HTTP/1.1) or GOAWAY (HTTP/2) so that keep-alive clients reconnect, and the process exits within its
/// drain deadline. SIGTERM keeps its meaning: the drain for a stop, readiness false and 503s.
/// </summary>
internal sealed partial class Handover : IDisposable
{
    private readonly string? _pidFile;
    private FileStream? _lock;
    private PosixSignalRegistration? _leave;
    private MeterListener? _connections;
    private long _open;
    private volatile bool _leaving;

    private Handover(string? pidFile, FileStream? fileLock)
    {
        _pidFile = pidFile;
        _lock = fileLock;
        Replacing = pidFile is not null && IsServer(ReadPid(pidFile));
    }

    /// <summary>True once SIGUSR2 has asked this process to leave.</summary>
    public bool Leaving => _leaving;

    /// <summary>
    /// A live process serves from the pid file: this one replaces it, and listens only once its models
    /// are warm (a listener beside the old one gets a share of new connections at once).
    /// </summary>
    public bool Replacing { get; }

    public string? PidFile => _pidFile;

    /// <summary>
    /// Takes the replacement lock when a pid file is configured; refuses to start when another process
    /// holds it (a replacement under way).
    /// </summary>
    public static Handover Take(string? pidFile)
    {
        if (string.IsNullOrEmpty(pidFile))
        {
            return new Handover(null, null);
        }

        string path = Path.GetFullPath(pidFile);
        try
        {
            // FileShare.None is an exclusive flock(2) on Linux: released by the kernel if this process dies.
            return new Handover(path, new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new StartupRefusedException($"LowLatency:PidFile: another server process holds {path}.lock (a replacement is under way; one at a time): {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StartupRefusedException($"LowLatency:PidFile: cannot open {path}.lock: {e.Message}");
        }
    }

    /// <summary>From now on SIGUSR2 stops the application as a leave rather than a stop.</summary>
    public void Listen(IHostApplicationLifetime lifetime)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        lifetime.ApplicationStopped.Register(Dispose);
        // Kestrel's count of open connections: a leaving process waits for it to reach 0.
        _connections = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Microsoft.AspNetCore.Server.Kestrel" && instrument.Name == "kestrel.active_connections")
                {
                    listener.EnableMeasurementEvents(instrument, this);
                }
            },
        };
        _connections.SetMeasurementEventCallback<long>(static (_, delta, _, state) => Interlocked.Add(ref ((Handover)state!)._open, delta));
        _connections.Start();
        _leave = PosixSignalRegistration.Create((PosixSignal)ProcessSignals.UserSignal2, context =>
        {
            context.Cancel = true;
            _leaving = true;
            lifetime.StopApplication();
        });
    }

    /// <summary>
    /// This process is ready (models warm, Kestrel listening): asks the process the pid file names to
    /// leave, takes its place in the file, and releases the lock once that process has exited (or
    /// <paramref name="waitForExit"/> has passed). Waits on a thread of its own.
    /// </summary>
    public void Ready(ILogger logger, TimeSpan waitForExit)
    {
        if (_pidFile is null)
        {
            return;
        }

        int old = ReadPid(_pidFile);
        bool asked = IsServer(old) && ProcessSignals.Send(old, ProcessSignals.UserSignal2);
        string temp = _pidFile + ".new";
        File.WriteAllText(temp, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        File.Move(temp, _pidFile, overwrite: true);
        if (!asked)
        {
            LogFirst(logger, _pidFile);
            Release();
            return;
        }

        LogAsked(logger, old);
        new Thread(() =>
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (ProcessSignals.Alive(old) && (waitForExit == Timeout.InfiniteTimeSpan || waited.Elapsed < waitForExit))
            {
                Thread.Sleep(20);
            }

            if (ProcessSignals.Alive(old))
            {
                LogOldStayed(logger, old, waited.Elapsed.TotalSeconds);
            }
            else
            {
                LogOldGone(logger, old, waited.Elapsed.TotalSeconds);
            }

            Release();
        })
        { Name = "ll-handover", IsBackground = true }.Start();
    }

    /// <summary>
    /// Leaving: waits until every connection has closed (each closes after its next answer, and new
    /// ones go to the process beside this one), or <paramref name="timeout"/> has passed; then Kestrel
    /// stops, closing what is left idle. Returns how many were still open.
    /// </summary>
    public long WaitForConnectionsClosed(TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Interlocked.Read(ref _open) > 0 && waited.Elapsed < timeout)
        {
            Thread.Sleep(5);
        }

        return Interlocked.Read(ref _open);
    }

    /// <summary>At exit: the pid file is removed if it still names this process (not if a successor took it).</summary>
    public void Exiting()
    {
        if (_pidFile is not null && ReadPid(_pidFile) == Environment.ProcessId)
        {
            File.Delete(_pidFile);
        }
    }

    public void Dispose()
    {
        _leave?.Dispose();
        _connections?.Dispose();
        Release();
    }

    private void Release() => Interlocked.Exchange(ref _lock, null)?.Dispose();

    /// <summary>
    /// Whether <paramref name="pid"/> is another live server process: a pid file left by a process
    /// that was killed may name a pid since reused by an unrelated process, which SIGUSR2 would end.
    /// </summary>
    private static bool IsServer(int pid)
    {
        if (pid <= 0 || pid == Environment.ProcessId || !ProcessSignals.Alive(pid))
        {
            return false;
        }

        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains("LowLatency.Host", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int ReadPid(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    [LoggerMessage(EventId = 1020, EventName = "HandoverFirst", Level = LogLevel.Information, Message = "handover: no server to replace, this process is in {PidFile}")]
    private static partial void LogFirst(ILogger logger, string pidFile);

    [LoggerMessage(EventId = 1021, EventName = "HandoverAsked", Level = LogLevel.Information, Message = "handover: ready, asked process {Pid} to leave (SIGUSR2)")]
    private static partial void LogAsked(ILogger logger, int pid);

    [LoggerMessage(EventId = 1022, EventName = "HandoverDone", Level = LogLevel.Information, Message = "handover: process {Pid} has left after {Seconds:0.0} s")]
    private static partial void LogOldGone(ILogger logger, int pid, double seconds);

    [LoggerMessage(EventId = 1023, EventName = "HandoverOldStayed", Level = LogLevel.Warning, Message = "handover: process {Pid} is still running {Seconds:0.0} s after it was asked to leave; the lock is released")]
    private static partial void LogOldStayed(ILogger logger, int pid, double seconds);
}
