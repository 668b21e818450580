using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Many clients send maximum-size bodies at once: the bodies held in flight stay within the budget
/// (those past it are refused with 503 and Retry-After), nothing crashes, small requests go on being
/// served, and the memory the burst took is given back within seconds.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class RequestBodyBurstTests
{
    private const long MiB = 1 << 20;
    private const long MaxBody = 64 * MiB;
    private const long Budget = 256 * MiB;
    private const int Bodies = 24;

    [Fact]
    public async Task Concurrent_maximum_size_bodies_stay_within_the_body_budget()
    {
        await using var server = await HostileServer.StartAsync([$"--LowLatency:MaxBufferedRequestBodyBytes={Budget}"]);
        await GoldenAsync(server);
        long before = server.ResidentBytes();
        long peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.ResidentBytes());
                await Task.Delay(20);
            }
        });

        var statuses = await BurstAsync(server);
        await sampling.CancelAsync();
        await sampler;

        Assert.False(server.HasExited, "the server died in the burst\n" + server.Log);
        // 24 bodies of 64 MiB are 1.5 GiB; the budget holds 256 MiB of them at once. The bound leaves
        // another 256 MiB for what a burst costs beside the bodies (Kestrel's pool, the GC's
        // budgets) on a shared machine: without the budget the peak was over 1 GiB above.
        Assert.True(peak - before <= Budget + 256 * MiB, $"resident memory rose {(peak - before) / MiB} MiB in the burst (from {before / MiB} MiB)");
        // Admitted bodies are read whole and refused as malformed (400); those past the budget get 503
        // with Retry-After before they are read. No other answer, and every client got one.
        Assert.All(statuses, s => Assert.True(s is 400 or 503, $"statuses: {string.Join(", ", statuses)}"));
        Assert.Contains(503, statuses);
        Assert.Contains(400, statuses);
        Assert.True(await server.IsReadyAsync());
        await GoldenAsync(server);
    }

    [Fact]
    public async Task Resident_memory_falls_back_within_seconds_after_a_burst_while_requests_go_on()
    {
        // A budget large enough that the burst takes memory (24 bodies, 512 MiB of them at once).
        await using var server = await HostileServer.StartAsync([$"--LowLatency:MaxBufferedRequestBodyBytes={2 * Budget}", "--Logging:LogLevel:LowLatency.Host.Memory=Information"]);
        for (int i = 0; i < 200; i++)
        {
            await GoldenAsync(server);
        }

        long before = server.ResidentBytes();
        await using var traffic = new BackgroundTraffic(server, () => GoldenAsync(server), before);

        var statuses = await BurstAsync(server);
        long after = server.ResidentBytes();
        // The bound: what the server keeps for itself after a burst (Kestrel's idle buffers, 8 MiB;
        // the GC's allocation budgets for the requests going on), with room for a shared machine.
        // Within 10 s: the burst is over at once, and one collection gives its memory back.
        long settled = await server.ResidentBytesFallingToAsync(before + FallBackBound, TimeSpan.FromSeconds(10));
        await traffic.StopAsync();
        long peak = traffic.Peak;

        Assert.All(statuses, s => Assert.True(s is 400 or 503, $"statuses: {string.Join(", ", statuses)}"));
        Assert.True(peak - before > 256 * MiB, $"the burst took only {(peak - before) / MiB} MiB: the test shows nothing");
        Assert.True(settled <= before + FallBackBound, $"resident memory {before / MiB} MiB before the burst, {peak / MiB} at its peak, {after / MiB} at its end, still {settled / MiB} 10 s later ({traffic.Served} requests served meanwhile)\n{server.Log}");
        Assert.True(await server.IsReadyAsync());
        await GoldenAsync(server);
    }

    /// <summary>How far above its level before a burst the server's resident memory may stay once the burst is over (docs/operations.md#memory-after-a-burst).</summary>
    private const long FallBackBound = 96 * MiB;

    /// <summary>The statuses of <see cref="Bodies"/> maximum-size bodies sent at once, each on its own connection; 0: no answer.</summary>
    private static async Task<int[]> BurstAsync(HostileServer server)
    {
        // Not MessagePack: the first byte (0xC1) is one MessagePack never uses, so an admitted body is
        // refused once read whole, and nothing but the body itself is held for it.
        var body = new byte[MaxBody];
        Array.Fill(body, (byte)0xC1);
        var sends = Enumerable.Range(0, Bodies).Select(async _ =>
        {
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(120) };
            try
            {
                using var response = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(body, Wire.MsgPack));
                await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Assert.True(response.Headers.RetryAfter is not null, "a 503 without Retry-After");
                }

                return (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                return 0;
            }
        });
        return await Task.WhenAll(sends);
    }

    private static async Task GoldenAsync(HostileServer server)
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var response = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Wire.AssertClose(golden.Expected[0], Wire.ParseMsgPack(await response.Content.ReadAsByteArrayAsync()).Outputs[0]);
    }
}
