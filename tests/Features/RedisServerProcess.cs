using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace LowLatency.Tests.Features;

/// <summary>
/// A redis-server child process on a loopback port with its own temp folder and no persistence,
/// killed on dispose; every one still running when the test process exits is killed then too, so a
/// failed or aborted test leaves none behind.
/// </summary>
internal sealed class RedisServerProcess : IDisposable
{
    private static readonly ConcurrentDictionary<RedisServerProcess, byte> Running = new();

    private readonly string[] _extra;
    private Process? _process;

    static RedisServerProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var server in Running.Keys)
        {
            server.Kill();
        }
    };

    public RedisServerProcess(int port, params string[] extra)
    {
        Port = port;
        Directory = Path.Combine(Path.GetTempPath(), "ll-redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        _extra = extra;
    }

    public static bool Installed => File.Exists("/usr/bin/redis-server") && File.Exists("/usr/bin/redis-cli");

    public int Port { get; }

    public string Directory { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Stops the server without closing its connections (SIGSTOP): a hung server, not a dead one. <see cref="Resume"/> undoes it.</summary>
    public void Pause() => Signal("-STOP");

    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process!.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Starts the server (again, after <see cref="Kill"/>: same port, same folder) and waits until it answers PING.</summary>
    public void Start()
    {
        var psi = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory, "--save", string.Empty, "--appendonly", "no", "--daemonize", "no", "--logfile", Path.Combine(Directory, "redis.log") },
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in _extra)
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Running.TryAdd(this, 0);
        var deadline = Stopwatch.StartNew();
        while (!Ping())
        {
            if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                string log = File.Exists(Path.Combine(Directory, "redis.log")) ? File.ReadAllText(Path.Combine(Directory, "redis.log")) : string.Empty;
                Kill();
                throw new InvalidOperationException($"redis-server on port {Port} did not start:\n{log}");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>Kills the server at once (SIGKILL): a crash, not a shutdown.</summary>
    public void Kill()
    {
        if (_process is { } p)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill();
                    p.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            p.Dispose();
            _process = null;
        }

        Running.TryRemove(this, out _);
    }

    public bool Ping()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            int n = stream.Read(buffer);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Runs redis-cli with <paramref name="args"/> against this server; its output.</summary>
    public string Cli(params string[] args) => RunCli(["-p", Port.ToString(CultureInfo.InvariantCulture), .. args]);

    public static string RunCli(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000))
        {
            p.Kill();
            throw new TimeoutException("redis-cli " + string.Join(' ', psi.ArgumentList));
        }

        return output.Result + error.Result;
    }

    public void Dispose()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held: the temp folder is cleaned by the system.
        }
    }
}
