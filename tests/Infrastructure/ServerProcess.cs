using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LowLatency.Tests.Infrastructure;

/// <summary>
/// The server as a child process (LowLatency.Host.dll from the test output) on a free loopback port,
/// its stdout and stderr collected; killed on dispose if still running.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _log = new();

    private ServerProcess(Process process, int port, int grpcPort)
    {
        GrpcPort = grpcPort;
        Process = process;
        Port = port;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _log.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _log.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>The gRPC listener's port (unless the arguments gave another <c>--grpc-urls</c>).</summary>
    public int GrpcPort { get; }

    public Uri GrpcAddress => new($"http://127.0.0.1:{GrpcPort}");

    /// <summary>Everything the server has written so far, one line each.</summary>
    public string Log => string.Join('\n', _log);

    /// <summary>
    /// Starts the server with <paramref name="arguments"/> after its URL and repository settings.
    /// With <paramref name="startOnCore"/>, it is started from a thread pinned to that core: the child
    /// inherits the forking thread's affinity mask, as under <c>taskset -c</c>.
    /// </summary>
    /// <remarks>
    /// With <paramref name="launcher"/>, the server is started by another program (systemd-socket-activate,
    /// say): given the REST and gRPC ports, it returns that program and its arguments, the server's
    /// command line following them. With <paramref name="ports"/>, it serves those rather than free ones
    /// (a second process beside a first).
    /// </remarks>
    public static ServerProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, int? startOnCore = null, Func<int, int, string[]>? launcher = null, (int Http, int Grpc)? ports = null)
    {
        int port = ports?.Http ?? FreePort();
        int grpcPort = ports?.Grpc ?? FreePort();
        string[] before = launcher?.Invoke(port, grpcPort) ?? [];
        var psi = new ProcessStartInfo(before.Length > 0 ? before[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in before.Skip(1).Concat(before.Length > 0 ? ["dotnet"] : []))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "LowLatency.Host.dll"), "--urls", $"http://127.0.0.1:{port}", "--grpc-urls", $"http://127.0.0.1:{grpcPort}", "--model-repository", RepoPaths.Models }.Concat(arguments))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        Process? process = null;
        if (startOnCore is { } core)
        {
            var starter = new Thread(() =>
            {
                Assert.True(LowLatency.Native.Threading.ThreadTuning.PinToCore(core), $"could not pin the starting thread to core {core}");
                process = Process.Start(psi);
            });
            starter.Start();
            starter.Join();
        }
        else
        {
            process = Process.Start(psi);
        }

        return new ServerProcess(process!, port, grpcPort);
    }

    public async Task WaitReadyAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline && !Process.HasExited)
        {
            try
            {
                using var r = await client.GetAsync("/v2/health/ready");
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the server process did not become ready\n" + Log);
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }
}
