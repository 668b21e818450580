using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Upgrades;

/// <summary>
/// <c>LowLatency:ReusePort</c>: a second server process with the same URLs binds beside the first, and
/// serves the port alone once the first has drained and exited; without the setting it cannot bind.
/// (Replacement under load, with the pid file: <see cref="HandoverTests"/>.)
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class ReusePortTests
{
    private static readonly string[] Arguments = ["--LowLatency:ReusePort=true", "--Logging:LogLevel:Microsoft=Warning"];

    [Fact]
    public async Task A_second_process_binds_the_same_urls_and_serves_after_the_first_has_gone()
    {
        using var first = ServerProcess.Start(Arguments);
        using var client = new HttpClient { BaseAddress = first.Address, Timeout = TimeSpan.FromSeconds(30) };
        await first.WaitReadyAsync(client);
        using var second = ServerProcess.Start(Arguments, ports: (first.Port, first.GrpcPort));
        // Its models loaded (Kestrel listens before they are), not the first's readiness on the shared port.
        Assert.True(await Poll.UntilAsync(() => second.Log.Contains("ready: ", StringComparison.Ordinal) || second.Process.HasExited, TimeSpan.FromSeconds(120)), second.Log);
        Assert.False(second.Process.HasExited, second.Log);

        Assert.True(Signals.Terminate(first.Process.Id));
        Assert.True(first.Process.WaitForExit(60_000), first.Log);
        Assert.Equal(0, first.Process.ExitCode);

        // Every connection now reaches the second process.
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        for (int i = 0; i < 20; i++)
        {
            using var fresh = new HttpClient { BaseAddress = first.Address, Timeout = TimeSpan.FromSeconds(30) };
            using var response = await fresh.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToJson(), "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Wire.AssertClose(golden.Expected[0], Wire.ParseJson(await response.Content.ReadAsByteArrayAsync()).Outputs[0]);
        }

        Assert.False(second.Process.HasExited, second.Log);
    }

    [Fact]
    public async Task Without_the_setting_a_second_process_cannot_bind()
    {
        using var first = ServerProcess.Start(["--Logging:LogLevel:Microsoft=Warning"]);
        using var client = new HttpClient { BaseAddress = first.Address, Timeout = TimeSpan.FromSeconds(30) };
        await first.WaitReadyAsync(client);
        using var second = ServerProcess.Start(["--Logging:LogLevel:Microsoft=Warning"], ports: (first.Port, first.GrpcPort));
        Assert.True(second.Process.WaitForExit(60_000), second.Log);
        second.Process.WaitForExit();
        // A refusal naming the address, as for any setting that cannot be served; not a crash.
        Assert.True(second.Process.ExitCode == 2, $"exit code {second.Process.ExitCode}\n{second.Log}");
        Assert.Contains($"error: Failed to bind to address http://127.0.0.1:{first.Port}: address already in use", second.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", second.Log, StringComparison.Ordinal);
    }
}
