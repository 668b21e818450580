using System.Collections.Concurrent;
using System.Net;
using LowLatency.Tests.Client;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LowLatency.Tests.Gateway;

/// <summary>
/// A forwarded body borrowed from the request's buffers while a hedge's lost attempt may still be
/// writing it: the winner's answer goes out at once, and the loser's backend receives only its own
/// request's bytes, never those of a later request that reused the buffers.
/// </summary>
public sealed class HedgedBodyTests
{
    private const string Weights = """{ "tick_milliseconds": 50, "window_seconds": 0.5, "min_requests": 5, "cooldown_seconds": 0.5, "probe_requests": 2 }""";

    // Past what loopback's socket buffers take (a few MiB each way): the lost attempt is still writing when the winner answers.
    private const int BodyBytes = 16 << 20;

    [Fact]
    public async Task A_hedged_REST_request_is_answered_by_the_winner_and_the_slow_loser_receives_only_its_own_request_s_bytes()
    {
        await using var slow = await SlowReader.StartAsync();
        await using var fast = await StubHttpServer.StartAsync(async (ctx, n) =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync($$"""{"model_name":"fast","model_version":"{{n}}","outputs":[]}""");
        });

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": { "hedged": { "hedge_after_milliseconds": 50, "deadline_milliseconds": 30000, "weights": {{Weights}}, "backends": [
                { "name": "slow", "url": "{{slow.Address}}", "model": "m", "weight": 1, "timeout_milliseconds": 30000 },
                { "name": "fast", "url": "{{fast.Address}}", "model": "m", "weight": 1 } ] } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        // One after another: each request's buffers go back to Kestrel's pool and carry the next one's bytes.
        var bodies = new List<byte[]>();
        for (int i = 0; i < 4; i++)
        {
            byte[] body = BodyLeaseTests.Pattern(BodyBytes, seed: 100 + i);
            bodies.Add(body);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/hedged/infer") { Content = ServerFixture.Body(body, "application/json") };
            request.Headers.Add("X-Model-Preference", "slow");
            using var response = await client.SendAsync(request);
            string answer = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("fast", response.Headers.GetValues("X-LowLatency-Backend").Single());
            Assert.Contains("\"model_name\":\"fast\"", answer, StringComparison.Ordinal);
            Assert.True(fast.Received.TryDequeue(out var atFast));
            Assert.True(body.AsSpan().SequenceEqual(atFast.Body), $"request {i}: the winner received other bytes");
        }

        // Each loser's connection is cut once the winner answered; what reached the slow backend by then
        // is a prefix of its own request's body, byte for byte.
        var until = DateTime.UtcNow.AddSeconds(30);
        while (slow.Received.Count < bodies.Count && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }

        Assert.Equal(bodies.Count, slow.Received.Count);
        var matched = new HashSet<int>();
        foreach (var (path, got) in slow.Received)
        {
            Assert.Equal("/v2/models/m/infer", path);
            Assert.True(got.Length >= 16, $"the slow backend received {got.Length} bytes of a request");
            int owner = bodies.FindIndex(b => b.AsSpan(0, 16).SequenceEqual(got.AsSpan(0, 16)));
            Assert.True(owner >= 0, "the slow backend received a body that starts as none of the requests");
            Assert.True(matched.Add(owner));
            Assert.True(got.Length < BodyBytes, $"request {owner}: the lost attempt had finished writing before the winner answered; the test shows nothing");
            int differs = got.AsSpan().CommonPrefixLength(bodies[owner]);
            Assert.True(differs == got.Length, $"request {owner}: byte {differs} of the {got.Length} the slow backend received is not the request's");
        }
    }

    /// <summary>
    /// A backend that takes a body 16 KiB at a time, a few milliseconds apart, with Kestrel buffering
    /// little ahead: the sender's writes wait on it. Records what it received of each request (until
    /// its connection is cut), and answers only a body it read whole.
    /// </summary>
    private sealed class SlowReader : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private SlowReader(WebApplication app) => _app = app;

        public Uri Address { get; private set; } = null!;

        public ConcurrentQueue<(string Path, byte[] Body)> Received { get; } = new();

        public static async Task<SlowReader> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k =>
            {
                k.Listen(IPAddress.Loopback, 0);
                k.Limits.MaxRequestBufferSize = 64 * 1024;
                k.Limits.MinRequestBodyDataRate = null;
            });
            var app = builder.Build();
            var reader = new SlowReader(app);
            app.Run(async ctx =>
            {
                var got = new MemoryStream();
                var buffer = new byte[16 * 1024];
                bool whole = false;
                try
                {
                    int n;
                    while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
                    {
                        got.Write(buffer, 0, n);
                        await Task.Delay(5);
                    }

                    whole = true;
                }
                catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
                {
                    // The sender gave up on the request: its connection is gone.
                }

                reader.Received.Enqueue((ctx.Request.Path.Value ?? string.Empty, got.ToArray()));
                if (whole)
                {
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync("""{"model_name":"slow","model_version":"1","outputs":[]}""");
                }
            });
            await app.StartAsync();
            reader.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return reader;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
