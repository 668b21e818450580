using System.Net;
using System.Runtime.InteropServices;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>The server as a process, stopped with SIGTERM while clients keep sending: exit code 0, nothing accepted left unanswered.</summary>
[Collection(ChildProcessCollection.Name)]
public sealed partial class SigtermTests
{
    [Fact]
    public async Task Sigterm_under_load_answers_every_accepted_request_and_exits_0()
    {
        using var server = ServerProcess.Start(["--Logging:LogLevel:Default=Information", "--Logging:LogLevel:Microsoft=Warning"]);
        var process = server.Process;
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        await server.WaitReadyAsync(client);
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        byte[] body = golden.Request.ToMsgPack();
        int ok = 0, refused = 0, transport = 0;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && !process.HasExited)
            {
                try
                {
                    using var response = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(body, Wire.MsgPack));
                    var bytes = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Wire.AssertClose(golden.Expected[0], Wire.ParseMsgPack(bytes).Outputs[0]);
                        Interlocked.Increment(ref ok);
                    }
                    else
                    {
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                        Interlocked.Increment(ref refused);
                    }
                }
                catch (HttpRequestException)
                {
                    // Refused at connect once the listener closed, or closed unread: never accepted.
                    // A refused connect fails at once: pace the retries rather than spin on a closed port.
                    Interlocked.Increment(ref transport);
                    await Task.Delay(5);
                }
            }
        })).ToArray();

        // Under load: the clients have been answered a good number of times before the signal.
        await Poll.UntilAsync(() => Volatile.Read(ref ok) >= 200 || process.HasExited);
        int before = Volatile.Read(ref ok);
        Assert.Equal(0, Kill(process.Id, SigTerm));
        Assert.True(process.WaitForExit(60_000), "the server did not exit within 60 s of SIGTERM");
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        process.WaitForExit();

        string all = server.Log;
        Assert.True(before > 0, "no request was answered before SIGTERM: the test showed nothing\n" + all);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("shutting down: not ready, refusing new requests", all, StringComparison.Ordinal);
        Assert.Contains("stopped: 0 accepted requests unanswered", all, StringComparison.Ordinal);
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
