using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// A server that cannot start serving (a certificate that cannot be read; an address taken is in
/// ReusePortTests) exits with code 2 and a line naming why, not a crash.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class StartupFailureTests
{
    [Fact]
    public void A_certificate_that_cannot_be_read_exits_2_naming_the_file()
    {
        int port = ServerProcess.FreePort();
        using var server = ServerProcess.Start(["--urls", $"https://127.0.0.1:{port}", "--Kestrel:Certificates:Default:Path=/nonexistent/server.pfx", "--Logging:LogLevel:Default=Warning"]);
        Assert.True(server.Process.WaitForExit(60_000), server.Log);
        server.Process.WaitForExit();
        Assert.True(server.Process.ExitCode == 2, $"exit code {server.Process.ExitCode}\n{server.Log}");
        Assert.Contains(server.Log.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal) && l.Contains("'/nonexistent/server.pfx'", StringComparison.Ordinal));
        Assert.DoesNotContain("Unhandled exception", server.Log, StringComparison.Ordinal);
    }
}
