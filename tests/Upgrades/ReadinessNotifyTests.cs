using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Upgrades;

/// <summary>
/// systemd's readiness protocol as a <c>Type=notify</c> unit sees it: a datagram socket named by
/// <c>NOTIFY_SOCKET</c> hears READY=1 only once the server answers ready (models loaded and warm), and
/// STOPPING=1 when SIGTERM starts the drain.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class ReadinessNotifyTests
{
    [Fact]
    public async Task Ready_comes_only_with_readiness_and_stopping_with_sigterm()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ll-notify-{Guid.NewGuid():N}.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(path));
        var received = new BlockingCollection<string>();
        try
        {
            _ = Task.Run(async () =>
            {
                var buffer = new byte[4096];
                while (true)
                {
                    int n = await notify.ReceiveAsync(buffer, SocketFlags.None);
                    received.Add(Encoding.UTF8.GetString(buffer, 0, n));
                }
            });
            using var server = ServerProcess.Start(["--Logging:LogLevel:Default=Information", "--Logging:LogLevel:Microsoft=Warning"],
                new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path });
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };

            Assert.True(received.TryTake(out var first, TimeSpan.FromSeconds(120)), "no notification\n" + server.Log);
            // Asked the moment READY=1 arrives: the server must already answer ready, every model warm.
            using (var ready = await client.GetAsync("/v2/health/ready"))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }

            Assert.Equal("READY=1", first);

            Assert.True(Signals.Terminate(server.Process.Id));
            Assert.True(received.TryTake(out var second, TimeSpan.FromSeconds(30)), "no notification at SIGTERM\n" + server.Log);
            Assert.Equal("STOPPING=1", second);
            Assert.True(server.Process.WaitForExit(60_000), "the server did not exit\n" + server.Log);
            Assert.Equal(0, server.Process.ExitCode);
            Assert.False(received.TryTake(out var more, TimeSpan.FromMilliseconds(100)), $"unexpected notification {more}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
