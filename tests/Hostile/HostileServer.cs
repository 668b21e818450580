using System.Globalization;
using System.Net.Sockets;
using System.Text;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// The server as a hostile client meets it: a child process of the Release build the tests run
/// from, on a free loopback port, with the memory the kernel holds for it (VmRSS, from
/// /proc/&lt;pid&gt;/status) measurable before and after a burst, and raw TCP for what an HTTP client
/// library will not send (malformed chunking, lying lengths).
/// </summary>
internal sealed class HostileServer : IAsyncDisposable
{
    private readonly ServerProcess _process;

    private HostileServer(ServerProcess process, HttpClient client)
    {
        _process = process;
        Client = client;
    }

    public HttpClient Client { get; }

    public Uri Address => _process.Address;

    /// <summary>The gRPC listener (h2c on its own loopback port).</summary>
    public Uri GrpcAddress => _process.GrpcAddress;

    public int Port => _process.Port;

    /// <summary>Everything the server has written so far.</summary>
    public string Log => _process.Log;

    public bool HasExited => _process.Process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.Process.ExitCode;

    /// <summary>Sends the server SIGTERM, as systemd and Kubernetes stop it.</summary>
    public void Terminate() => Assert.True(Signals.Terminate(_process.Process.Id), "kill(SIGTERM) failed");

    /// <summary>Whether the server exits within <paramref name="within"/>.</summary>
    public async Task<bool> ExitsWithinAsync(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        try
        {
            await _process.Process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Starts the server with <paramref name="arguments"/> and waits until it is ready.</summary>
    public static async Task<HostileServer> StartAsync(IEnumerable<string>? arguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = ServerProcess.Start(["--Logging:LogLevel:Default=Warning", .. arguments ?? []], environment);
        var client = new HttpClient { BaseAddress = process.Address, Timeout = TimeSpan.FromSeconds(120) };
        try
        {
            await process.WaitReadyAsync(client);
        }
        catch
        {
            client.Dispose();
            process.Dispose();
            throw;
        }

        return new HostileServer(process, client);
    }

    /// <summary>The server's resident memory, in bytes (VmRSS of /proc/&lt;pid&gt;/status).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                // "VmRSS:	  123456 kB"
                var kb = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS line in /proc/<pid>/status");
    }

    /// <summary>
    /// Polls the server's resident memory until it is at most <paramref name="bytes"/> or
    /// <paramref name="within"/> passes; returns the last reading.
    /// </summary>
    public async Task<long> ResidentBytesFallingToAsync(long bytes, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        long rss = ResidentBytes();
        while (rss > bytes && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            rss = ResidentBytes();
        }

        return rss;
    }

    /// <summary>Whether the server still answers its readiness probe with 200.</summary>
    public async Task<bool> IsReadyAsync()
    {
        using var response = await Client.GetAsync("/v2/health/ready");
        return response.IsSuccessStatusCode;
    }

    /// <summary>
    /// Sends <paramref name="request"/> as it is on a new connection and reads until the server
    /// closes it or <paramref name="timeout"/> passes: the raw answer, headers and body.
    /// </summary>
    public Task<string> SendRawAsync(byte[] request, TimeSpan timeout) => SendRawAsync(request, timeout, RawEnd.KeepOpen);

    /// <summary>
    /// As <see cref="SendRawAsync(byte[], TimeSpan)"/>, then ends the sending side as
    /// <paramref name="end"/> says: a client that stops sending (half-close: a truncated body, a
    /// lying Content-Length), or one that goes away at once (reset: nothing can be answered).
    /// </summary>
    public Task<string> SendRawAsync(byte[] request, TimeSpan timeout, RawEnd end) => SendRawAsync(request, timeout, end, TimeSpan.Zero);

    /// <summary>
    /// As <see cref="SendRawAsync(byte[], TimeSpan, RawEnd)"/>, ending the sending side only
    /// <paramref name="pause"/> after the request was sent: long enough for the server to read what
    /// came, so that the end reaches a body read already under way.
    /// </summary>
    public async Task<string> SendRawAsync(byte[] request, TimeSpan timeout, RawEnd end, TimeSpan pause)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request);
        if (pause > TimeSpan.Zero)
        {
            await Task.Delay(pause);
        }

        if (end == RawEnd.Reset)
        {
            // Linger 0: close sends a reset, not a FIN, and drops what was not yet sent.
            await Task.Delay(50);
            tcp.Client.LingerState = new LingerOption(true, 0);
            tcp.Client.Close();
            return string.Empty;
        }

        if (end == RawEnd.HalfClose)
        {
            tcp.Client.Shutdown(SocketShutdown.Send);
        }

        using var cts = new CancellationTokenSource(timeout);
        var answer = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                answer.Write(buffer, 0, n);
            }
        }
        catch (OperationCanceledException)
        {
            // The server kept the connection open: what it sent so far is the answer.
        }
        catch (IOException)
        {
            // Reset by the server after its answer.
        }

        return Encoding.Latin1.GetString(answer.ToArray());
    }

    /// <summary>The status code of a raw HTTP/1.1 answer; 0 when there is none.</summary>
    public static int StatusOf(string rawAnswer) =>
        rawAnswer.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && rawAnswer.Length >= 12 && int.TryParse(rawAnswer.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int status) ? status : 0;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        _process.Dispose();
        await Task.CompletedTask;
    }
}
