using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Upgrades;

/// <summary>
/// The server process replaced on the same port under load (<c>LowLatency:ReusePort</c> and
/// <c>LowLatency:PidFile</c>): each new process binds beside the old one, warms up, then makes it leave;
/// clients on kept-alive and on new connections see no failure, and every old process exits 0. A new
/// process that cannot load a model exits without touching the old one, which serves on.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class HandoverTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task Replacements_under_load_fail_no_request_and_leave_no_old_process()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ll-handover-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string pidFile = Path.Combine(dir, "server.pid");
        string[] args = ["--LowLatency:ReusePort=true", "--LowLatency:PidFile=" + pidFile, "--Logging:LogLevel:Microsoft=Warning"];
        var servers = new List<ServerProcess>();
        using var broken = new TempRepository();
        broken.AddModel("ctr-ranker", File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")), "not TorchScript"u8.ToArray());
        try
        {
            var first = ServerProcess.Start(args);
            servers.Add(first);
            await WaitNamedAsync(pidFile, first);
            var ports = (first.Port, first.GrpcPort);

            using var keepAlive = new HttpClient { BaseAddress = first.Address, Timeout = TimeSpan.FromSeconds(30) };
            using var stop = new CancellationTokenSource();
            int ok = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            async Task Send(HttpClient client, bool close)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/ctr-ranker/infer") { Content = ServerFixture.Body(Golden.Request.ToJson(), "application/json") };
                request.Headers.ConnectionClose = close;
                try
                {
                    using var response = await client.SendAsync(request);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"{(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
                        return;
                    }

                    Wire.AssertClose(Golden.Expected[0], Wire.ParseJson(body).Outputs[0]);
                    Interlocked.Increment(ref ok);
                }
                catch (HttpRequestException e)
                {
                    failures.Enqueue($"{(close ? "new" : "kept-alive")} connection: {e.Message} {e.InnerException?.Message}");
                }
            }

            // Four clients on kept-alive connections, two opening a connection for every request.
            var load = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            {
                using var own = new HttpClient { BaseAddress = first.Address, Timeout = TimeSpan.FromSeconds(30) };
                while (!stop.IsCancellationRequested)
                {
                    await Send(i < 4 ? keepAlive : own, close: i >= 4);
                }
            })).ToArray();

            for (int round = 0; round < 5; round++)
            {
                var old = servers[^1];
                var next = ServerProcess.Start(args, ports: ports);
                servers.Add(next);
                await WaitNamedAsync(pidFile, next);
                Assert.True(old.Process.WaitForExit(60_000), "the old process did not leave\n" + old.Log);
                Assert.Equal(0, old.Process.ExitCode);
            }

            // A build that cannot load its model: refused before it listens, the old process untouched.
            var serving = servers[^1];
            var failed = ServerProcess.Start([.. args, "--model-repository", broken.Root], ports: ports);
            servers.Add(failed);
            Assert.True(failed.Process.WaitForExit(120_000), failed.Log);
            failed.Process.WaitForExit();
            Assert.NotEqual(0, failed.Process.ExitCode);
            Assert.Contains("keeps serving", failed.Log, StringComparison.Ordinal);
            Assert.False(serving.Process.HasExited);
            Assert.Equal(serving.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(pidFile).Trim());
            await Task.Delay(500);

            await stop.CancelAsync();
            await Task.WhenAll(load);
            Assert.True(failures.IsEmpty, $"{failures.Count} failed of {ok + failures.Count}: {string.Join("; ", failures.Take(5))}");
            Assert.True(ok > 100, $"only {ok} answered");

            Assert.True(Signals.Terminate(serving.Process.Id));
            Assert.True(serving.Process.WaitForExit(60_000), serving.Log);
            Assert.All(servers, s => Assert.True(s.Process.HasExited));
            Assert.False(File.Exists(pidFile), "the last process left its pid file behind");
        }
        finally
        {
            foreach (var s in servers)
            {
                s.Dispose();
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_second_replacement_while_one_is_under_way_refuses_to_start()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ll-handover-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string pidFile = Path.Combine(dir, "server.pid");
        try
        {
            // The lock a replacement holds from its start until the old process has left.
            using (new FileStream(pidFile + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                using var second = ServerProcess.Start(["--LowLatency:ReusePort=true", "--LowLatency:PidFile=" + pidFile]);
                Assert.True(second.Process.WaitForExit(60_000), second.Log);
                second.Process.WaitForExit();
                Assert.Equal(2, second.Process.ExitCode);
                Assert.Contains("a replacement is under way", second.Log, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Waits until the pid file names <paramref name="server"/>: it is ready and has asked the old one to leave.</summary>
    private static async Task WaitNamedAsync(string pidFile, ServerProcess server)
    {
        string pid = server.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline && !server.Process.HasExited)
        {
            if (File.Exists(pidFile) && (await File.ReadAllTextAsync(pidFile)).Trim() == pid)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("the new process did not take over\n" + server.Log);
    }
}
