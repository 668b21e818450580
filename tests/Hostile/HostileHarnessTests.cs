using System.Text;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>The harness the hostile-client tests stand on: memory readings and raw requests mean what they say.</summary>
[Collection(ChildProcessCollection.Name)]
public sealed class HostileHarnessTests
{
    [Fact]
    public async Task A_started_server_is_ready_and_its_resident_memory_is_read()
    {
        await using var server = await HostileServer.StartAsync();
        Assert.True(await server.IsReadyAsync());
        long rss = server.ResidentBytes();
        // A .NET process with libtorch loaded: tens of MB at least, and less than the machine.
        Assert.InRange(rss, 20L << 20, 8L << 30);
    }

    [Fact]
    public async Task A_raw_request_gets_its_raw_answer()
    {
        await using var server = await HostileServer.StartAsync();
        var answer = await server.SendRawAsync(Encoding.ASCII.GetBytes("GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), TimeSpan.FromSeconds(10));
        Assert.Equal(200, HostileServer.StatusOf(answer));
    }
}
