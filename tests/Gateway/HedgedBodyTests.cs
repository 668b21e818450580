using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Inference;
using LowLatency.Tests.Client;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
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

    // Twice what the sender's socket buffer grows to (Linux's default tcp_wmem maximum: 4 MiB; the
    // slow backend's receive buffer is kept small): the lost attempt is still writing when the winner answers.
    private const int BodyBytes = 8 << 20;

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
            { "aliases": { "hedged": { "hedge_after_milliseconds": 500, "deadline_milliseconds": 30000, "weights": {{Weights}}, "backends": [
                { "name": "slow", "url": "{{slow.Address}}", "model": "m", "weight": 1, "timeout_milliseconds": 30000 },
                { "name": "fast", "url": "{{fast.Address}}", "model": "m", "weight": 1 } ] } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        // One after another: each request's buffers go back to Kestrel's pool and carry the next one's bytes.
        var bodies = new List<byte[]>();
        for (int i = 0; i < 3; i++)
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

    [Fact]
    public async Task Hedged_ModelInfer_and_ModelStreamInfer_requests_are_answered_by_the_winner_and_the_loser_receives_each_message_intact()
    {
        await using var slow = await StubGrpcServer.StartAsync(new StubGrpcService.Script { Stall = TimeSpan.FromSeconds(5) });
        await using var fast = await StubGrpcServer.StartAsync();

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": { "hedged": { "hedge_after_milliseconds": 500, "deadline_milliseconds": 30000, "weights": {{Weights}}, "backends": [
                { "name": "slow", "url": "{{slow.Address}}", "grpc_url": "{{slow.Address}}", "model": "m", "weight": 1, "timeout_milliseconds": 30000 },
                { "name": "fast", "url": "{{fast.Address}}", "grpc_url": "{{fast.Address}}", "model": "m", "weight": 1 } ] } } }
            """);
        await using var server = await GrpcReadyServer.StartAsync(repo.Root);
        var client = server.Client;
        var preferSlow = new Metadata { { "x-model-preference", "slow" } };

        // Unary calls, one after another: the message stays in Kestrel's buffers until the call ends.
        var sent = new Dictionary<string, byte[]>();
        for (int i = 0; i < 3; i++)
        {
            var request = Message("unary-" + i, seed: 200 + i, sent);
            using var call = client.ModelInferAsync(request, preferSlow);
            var response = await call.ResponseAsync;
            Assert.Equal("fast", (await call.ResponseHeadersAsync).GetValue("x-lowlatency-backend"));
            Assert.Equal(sent[request.Id], response.RawOutputContents[0].ToByteArray());
        }

        // A stream's requests, each a pooled copy given back once its answer is out and no attempt reads it.
        using (var stream = client.ModelStreamInfer(preferSlow))
        {
            for (int i = 0; i < 3; i++)
            {
                await stream.RequestStream.WriteAsync(Message("stream-" + i, seed: 300 + i, sent));
            }

            await stream.RequestStream.CompleteAsync();
            int answers = 0;
            while (await stream.ResponseStream.MoveNext(default))
            {
                var answer = stream.ResponseStream.Current;
                Assert.Equal("", answer.ErrorMessage);
                Assert.Equal(sent[answer.InferResponse.Id], answer.InferResponse.RawOutputContents[0].ToByteArray());
                answers++;
            }

            Assert.Equal(3, answers);
        }

        // Every request reached both; each message the loser received is the one its client sent.
        Assert.Equal(6, fast.Script.Received.Count);
        Assert.Equal(6, slow.Script.Received.Count);
        foreach (var (request, _, _, _) in slow.Script.Received)
        {
            Assert.Equal("m", request.ModelName);
            Assert.Equal(sent[request.Id], request.RawInputContents[0].ToByteArray());
        }

        using var table = JsonDocument.Parse(await server.Http.GetStringAsync("/v2/gateway/hedged"));
        var row = table.RootElement.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("name").GetString() == "slow");
        Assert.Equal(0, row.GetProperty("errors").GetInt64());
    }

    /// <summary>A request with one raw FP32 input of 64 Ki elements (256 KiB, past a pipe's block), recorded by its id.</summary>
    private static ModelInferRequest Message(string id, int seed, Dictionary<string, byte[]> sent)
    {
        byte[] raw = BodyLeaseTests.Pattern(256 * 1024, seed);
        sent[id] = raw;
        var request = new ModelInferRequest { ModelName = "hedged", Id = id };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32" };
        input.Shape.Add(raw.Length / 4);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(raw));
        return request;
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
            builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint =>
            {
                // Accepted connections inherit it: the window the sender sees stays small.
                var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                socket.ReceiveBufferSize = 32 * 1024;
                return socket;
            });
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
