using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Clients that keep their connections alive across SIGTERM: during the drain delay each answer says
/// when to retry and closes its connection, so that a client reconnects (through its load balancer,
/// to another instance) instead of being cut when the process stops.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class DrainDelayKeepAliveTests
{
    private const int DrainDelaySeconds = 3;
    private const int Connections = 4;

    [Fact]
    public async Task Kept_alive_connections_get_503_with_Retry_After_and_Connection_close_during_the_drain_delay()
    {
        await using var server = await HostileServer.StartAsync([$"--LowLatency:DrainDelaySeconds={DrainDelaySeconds}"]);
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        byte[] request = RawHttpConnection.Post("/v2/models/ctr-ranker/infer", Wire.MsgPack, golden.Request.ToMsgPack());
        var connections = new List<RawHttpConnection>();
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                var c = await RawHttpConnection.OpenAsync(server.Port);
                connections.Add(c);
                await c.SendAsync(request);
                var first = await c.ReadAnswerAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(200, first.Status);
                Wire.AssertClose(golden.Expected[0], Wire.ParseMsgPack(first.Body).Outputs[0]);
                Assert.False(first.Headers.ContainsKey("Connection"), "an ordinary answer keeps its connection alive");
            }

            server.Terminate();
            // Readiness turns false at SIGTERM; the drain delay then holds Kestrel open for 3 s.
            Assert.True(await UnreadyAsync(server, TimeSpan.FromSeconds(DrainDelaySeconds)), "readiness did not turn false\n" + server.Log);

            foreach (var c in connections)
            {
                await c.SendAsync(request);
                var answer = await c.ReadAnswerAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(503, answer.Status);
                Assert.Contains("shutting down", Wire.ErrorOf(answer.Body, Wire.MsgPack), StringComparison.Ordinal);
                Assert.True(answer.Headers.TryGetValue("Retry-After", out var retry) && int.TryParse(retry, out _), "no Retry-After in seconds: " + string.Join(", ", answer.Headers));
                Assert.True(answer.Headers.TryGetValue("Connection", out var connection) && connection.Equals("close", StringComparison.OrdinalIgnoreCase), "no Connection: close: " + string.Join(", ", answer.Headers));
                // Closed by the server after the answer, before the delay ends (not cut later, at the process's exit).
                Assert.True(await c.ClosedByServerAsync(TimeSpan.FromSeconds(DrainDelaySeconds - 1)), "the connection stayed open after its Connection: close answer");
            }

            // Nothing was left to drain: the process exits at the end of the delay (margin: the shared machine).
            Assert.True(await server.ExitsWithinAsync(TimeSpan.FromSeconds(DrainDelaySeconds + 10)), "the server did not exit\n" + server.Log);
            Assert.Equal(0, server.ExitCode);
        }
        finally
        {
            foreach (var c in connections)
            {
                c.Dispose();
            }
        }
    }

    private static async Task<bool> UnreadyAsync(HostileServer server, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (!await server.IsReadyAsync())
            {
                return true;
            }

            await Task.Delay(10);
        }

        return false;
    }
}
