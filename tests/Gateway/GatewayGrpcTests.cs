using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Inference;
using LowLatency.Gateway.Config;
using LowLatency.Host.Grpc;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace LowLatency.Tests.Gateway;

/// <summary>gRPC ModelInfer routes an alias as REST does: preference from metadata, the backend in the response metadata.</summary>
public sealed class GatewayGrpcTests
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task ModelInfer_on_an_alias_is_answered_by_the_preferred_backend_which_the_metadata_names()
    {
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), """
            { "aliases": { "rank": { "backends": [ { "name": "a", "model": "ctr-a", "weight": 1 }, { "name": "b", "model": "ctr-b", "weight": 1 } ] } } }
            """);
        await using var server = await Started.StartAsync(repo.Root);
        var (http, client) = (server.Http, server.Client);

        for (int i = 0; i < 4; i++)
        {
            using var call = client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true), new Metadata { { "x-model-preference", "b" } });
            var response = await call.ResponseAsync;
            var headers = await call.ResponseHeadersAsync;
            Assert.Equal("ctr-b", response.ModelName);
            Assert.Equal("b", headers.GetValue("x-lowlatency-backend"));
        }

        // Without a preference both backends answer (1:1).
        var seen = new HashSet<string>();
        for (int i = 0; i < 4; i++)
        {
            var response = await client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true));
            seen.Add(response.ModelName);
        }

        Assert.Equal(["ctr-a", "ctr-b"], seen.Order());
    }

    [Fact]
    public async Task ModelInfer_on_an_alias_is_forwarded_to_a_remote_backend_s_grpc_url_and_its_refusals_come_back_as_it_sent_them()
    {
        await using var remote = await Started.StartAsync(RepoPaths.Models);
        var (remoteAddress, remoteGrpc) = (remote.Address, remote.GrpcAddress);

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": { "rank": { "backends": [
                { "name": "far", "url": "{{remoteAddress}}", "grpc_url": "{{remoteGrpc}}", "model": "ctr-ranker", "weight": 1 },
                { "name": "near", "model": "ctr-a", "weight": 1 } ] } } }
            """);
        await using var server = await Started.StartAsync(repo.Root);
        var (http, client) = (server.Http, server.Client);

        // Raw and typed inputs reach the remote's model, whose name the answer carries, with the golden output.
        foreach (bool raw in new[] { true, false })
        {
            using var call = client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw), new Metadata { { "x-model-preference", "far" } });
            var response = await call.ResponseAsync;
            Assert.Equal("far", (await call.ResponseHeadersAsync).GetValue("x-lowlatency-backend"));
            Assert.Equal("ctr-ranker", response.ModelName);
            var result = GrpcWire.Result(response);
            for (int i = 0; i < Ctr.Expected.Count; i++)
            {
                Wire.AssertClose(Ctr.Expected[i], result.Outputs.Single(o => o.Name == Ctr.Expected[i].Name));
            }
        }

        var seen = new HashSet<string>();
        for (int i = 0; i < 20; i++)
        {
            seen.Add((await client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true))).ModelName);
        }

        Assert.Equal(["ctr-a", "ctr-ranker"], seen.Order());

        // A request the remote refuses is its client's mistake: its status and message, not retried elsewhere.
        var bad = GrpcWire.Request("rank", Ctr.Request, raw: true);
        bad.Inputs[0].Shape[1] = 3;
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(bad, new Metadata { { "x-model-preference", "far" } }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        using (var remoteChannel = global::Grpc.Net.Client.GrpcChannel.ForAddress(remoteGrpc))
        {
            bad.ModelName = "ctr-ranker";
            var direct = await Assert.ThrowsAsync<RpcException>(async () => await GrpcWire.Client(remoteChannel).ModelInferAsync(bad));
            Assert.Equal(direct.Status.Detail, e.Status.Detail);
        }

        using var table = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/v2/gateway/rank"));
        var far = table.RootElement.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("name").GetString() == "far");
        Assert.Equal(0, far.GetProperty("errors").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ModelInfer_on_an_alias_whose_remote_backend_gRPC_cannot_reach_is_answered_by_its_local_one(bool grpcUrl)
    {
        // The remote is preferred and weighs 1000 to 1, but without a grpc_url gRPC passes it over, and
        // with one where nothing listens the call is retried on the local backend.
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        string down = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        string remote = $$"""{ "name": "far", "url": "{{down}}", {{(grpcUrl ? $"\"grpc_url\": \"{down}\"," : "")}} "model": "ctr-ranker" """;
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": {
                "rank": { "backends": [ {{remote}}, "weight": 1000 }, { "name": "near", "model": "ctr-a", "weight": 1 } ] },
                "remote-only": { "backends": [ {{remote}}, "weight": 1 } ] } } }
            """);
        await using var server = await Started.StartAsync(repo.Root);
        var (http, client) = (server.Http, server.Client);

        for (int i = 0; i < 4; i++)
        {
            using var call = client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true), new Metadata { { "x-model-preference", "far" } });
            var response = await call.ResponseAsync;
            Assert.Equal("ctr-a", response.ModelName);
            Assert.Equal("near", (await call.ResponseHeadersAsync).GetValue("x-lowlatency-backend"));
        }

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(GrpcWire.Request("remote-only", Ctr.Request, raw: true)));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        if (grpcUrl)
        {
            Assert.Contains("backend 'far'", e.Status.Detail, StringComparison.Ordinal);
        }
    }

    // "small" takes all the weighted traffic (1000:1); the rules send long batches and gold-tier calls to "large".
    private const string RuledAliases = """
        { "aliases": { "rank": {
            "backends": [ { "name": "small", "model": "ctr-a", "weight": 1000 }, { "name": "large", "model": "ctr-b", "weight": 1 } ],
            "rules": [
              { "input": "dense", "dimension": 0, "at_least": 4, "backend": "large" },
              { "parameter": "tier", "equals": "gold", "backend": "large" } ] } } }
        """;

    private static ModelInferRequest Gold(ModelInferRequest request)
    {
        request.Parameters["priority"] = new InferParameter { Int64Param = 1 };
        request.Parameters["tier"] = new InferParameter { StringParam = "gold" };
        return request;
    }

    [Fact]
    public async Task ModelInfer_on_an_alias_follows_its_rules_on_the_message_as_REST_follows_them_on_the_body()
    {
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), RuledAliases);
        await using var server = await Started.StartAsync(repo.Root);
        var (http, client) = (server.Http, server.Client);
        var eight = GoldenCase.Load("ctr-ranker", "batch8");

        foreach (bool raw in new[] { true, false })
        {
            Assert.Equal("ctr-a", (await client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw))).ModelName);
            Assert.Equal("ctr-b", (await client.ModelInferAsync(GrpcWire.Request("rank", eight.Request, raw))).ModelName);
            using var call = client.ModelInferAsync(Gold(GrpcWire.Request("rank", Ctr.Request, raw)));
            Assert.Equal("ctr-b", (await call.ResponseAsync).ModelName);
            Assert.Equal("large", (await call.ResponseHeadersAsync).GetValue("x-lowlatency-backend"));
        }

        // The preference comes before the rules.
        var preferred = await client.ModelInferAsync(GrpcWire.Request("rank", eight.Request, raw: true), new Metadata { { "x-model-preference", "small" } });
        Assert.Equal("ctr-a", preferred.ModelName);
    }

    [Fact]
    public void The_message_scan_reads_parameters_and_shapes_and_allocates_nothing()
    {
        var rules = AliasFile.Parse("repo/aliases.json", RuledAliases, _ => false)[0].Rules;
        var eight = GoldenCase.Load("ctr-ranker", "batch8");
        var gold = new ReadOnlySequence<byte>(Gold(GrpcWire.Request("rank", Ctr.Request, raw: true)).ToByteArray());
        var typedEight = new ReadOnlySequence<byte>(GrpcWire.Request("rank", eight.Request, raw: false).ToByteArray());
        var plain = new ReadOnlySequence<byte>(GrpcWire.Request("rank", Ctr.Request, raw: true).ToByteArray());
        Assert.Equal(0b10UL, GrpcRuleScan.Matches(rules, gold));
        Assert.Equal(0b01UL, GrpcRuleScan.Matches(rules, typedEight));
        Assert.Equal(0UL, GrpcRuleScan.Matches(rules, plain));
        Assert.Equal(0UL, GrpcRuleScan.Matches(rules, new ReadOnlySequence<byte>([0x2A, 0x05, 0x0A])));

        ulong seen = 0;
        for (int i = 0; i < 100; i++)
        {
            seen |= GrpcRuleScan.Matches(rules, gold) | GrpcRuleScan.Matches(rules, typedEight);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            seen |= GrpcRuleScan.Matches(rules, gold) | GrpcRuleScan.Matches(rules, typedEight);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0b11UL, seen);
    }

    [Fact]
    public async Task ModelStreamInfer_routes_each_request_through_its_alias_locally_or_to_a_remote_and_answers_each_on_the_stream()
    {
        await using var remote = await Started.StartAsync(RepoPaths.Models);
        var (remoteAddress, remoteGrpc) = (remote.Address, remote.GrpcAddress);

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": {
                "rank": { "backends": [ { "name": "small", "model": "ctr-a", "weight": 1000 }, { "name": "large", "model": "ctr-b", "weight": 1 } ],
                          "rules": [ { "input": "dense", "dimension": 0, "at_least": 4, "backend": "large" } ] },
                "far": { "backends": [ { "name": "far", "url": "{{remoteAddress}}", "grpc_url": "{{remoteGrpc}}", "model": "ctr-ranker", "weight": 1 } ] } } }
            """);
        await using var server = await Started.StartAsync(repo.Root);
        var (http, client) = (server.Http, server.Client);
        var eight = GoldenCase.Load("ctr-ranker", "batch8");

        using var stream = client.ModelStreamInfer();
        var sent = new Dictionary<string, string>
        {
            ["one"] = "ctr-a", // the weighted choice
            ["eight"] = "ctr-b", // the rule on the batch
            ["remote"] = "ctr-ranker", // forwarded, answered under the remote's model name
            ["nobody"] = "",
        };
        foreach (var (id, _) in sent)
        {
            var request = id switch
            {
                "eight" => GrpcWire.Request("rank", eight.Request, raw: true),
                "remote" => GrpcWire.Request("far", Ctr.Request, raw: false),
                "nobody" => GrpcWire.Request("no-such-alias", Ctr.Request, raw: true),
                _ => GrpcWire.Request("rank", Ctr.Request, raw: true),
            };
            request.Id = id;
            await stream.RequestStream.WriteAsync(request);
        }

        await stream.RequestStream.CompleteAsync();
        var answered = new Dictionary<string, ModelStreamInferResponse>();
        while (await stream.ResponseStream.MoveNext(default))
        {
            var r = stream.ResponseStream.Current;
            answered[r.InferResponse?.Id is { Length: > 0 } rid ? rid : r.ErrorMessage] = r;
        }

        Assert.Equal("ctr-a", answered["one"].InferResponse.ModelName);
        Assert.Equal("ctr-b", answered["eight"].InferResponse.ModelName);
        var forwarded = answered["remote"].InferResponse;
        Assert.Equal("ctr-ranker", forwarded.ModelName);
        var result = GrpcWire.Result(forwarded);
        for (int i = 0; i < Ctr.Expected.Count; i++)
        {
            Wire.AssertClose(Ctr.Expected[i], result.Outputs.Single(o => o.Name == Ctr.Expected[i].Name));
        }

        var failed = Assert.Single(answered.Values, r => r.ErrorMessage.Length > 0);
        Assert.Contains("no-such-alias", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(4, answered.Count);
    }

    [Fact]
    public async Task A_call_s_grpc_timeout_caps_the_forward_to_a_remote_backend_within_a_longer_alias_deadline()
    {
        // The remote answers after 2 s, within its backend timeout (5 s) and the alias's deadline (10 s).
        var faults = new LowLatency.Tests.Routing.FaultInjector();
        using var remoteRepo = new CtrRepository(name: "ctr-far", versions: 1);
        var (remoteApp, remoteAddress) = await ServerFixture.StartAsync(remoteRepo.Root, configureEngine: o => o.Services = new LowLatency.Engine.Serving.EngineServices(LowLatency.Engine.Time.SystemClock.Instance, new LowLatency.Engine.Routing.RoutingEpoch(), faults.Wrap));
        await using var __ = remoteApp;
        using (var remoteHttp = new HttpClient { BaseAddress = remoteAddress })
        {
            await ServerFixture.WaitReadyAsync(remoteHttp);
        }

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": { "rank": { "deadline_milliseconds": 10000, "retries": 0, "backends": [
                { "name": "far", "url": "{{remoteAddress}}", "grpc_url": "{{ServerFixture.GrpcAddressOf(remoteApp)}}", "model": "ctr-far", "weight": 1, "timeout_milliseconds": 5000 } ] } } }
            """);
        await using var server = await Started.StartAsync(repo.Root);
        Assert.Equal("ctr-far", (await server.Client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true))).ModelName);
        faults.Slow(1, TimeSpan.FromSeconds(2), model: "ctr-far");

        // A call with grpc-timeout 300m that its client does not cancel at its deadline (sent by hand:
        // Grpc.Net.Client would end it itself): the server ends it at the deadline, as the deadline's.
        var payload = GrpcWire.Request("rank", Ctr.Request, raw: true).ToByteArray();
        var framed = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(framed, 5);
        using var h2 = new HttpClient();
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(server.GrpcAddress, "/inference.GRPCInferenceService/ModelInfer"))
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(framed),
        };
        message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.TryAddWithoutValidation("grpc-timeout", "300m");
        using var response = await h2.SendAsync(message);
        await response.Content.ReadAsByteArrayAsync();
        string Trailer(string name) => response.TrailingHeaders.TryGetValues(name, out var t) ? t.First() : response.Headers.TryGetValues(name, out var h) ? h.First() : "";
        string status = Trailer("grpc-status"), detail = Uri.UnescapeDataString(Trailer("grpc-message"));
        Assert.True(status == ((int)StatusCode.DeadlineExceeded).ToString(System.Globalization.CultureInfo.InvariantCulture), $"grpc-status {status}: {detail}");

        Assert.Contains("within the call's deadline", Uri.UnescapeDataString(Trailer("grpc-message")), StringComparison.Ordinal);
    }


    /// <summary>A server started on a repository and ready, with an HTTP client and a gRPC client on its listeners.</summary>
    private sealed class Started : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly global::Grpc.Net.Client.GrpcChannel _channel;

        private Started(WebApplication app, Uri address)
        {
            (_app, Address) = (app, address);
            Http = new HttpClient { BaseAddress = address };
            GrpcAddress = ServerFixture.GrpcAddressOf(app);
            _channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(GrpcAddress);
            Client = GrpcWire.Client(_channel);
        }

        public Uri Address { get; }

        public Uri GrpcAddress { get; }

        public HttpClient Http { get; }

        public GRPCInferenceService.GRPCInferenceServiceClient Client { get; }

        public static async Task<Started> StartAsync(string repository)
        {
            var (app, address) = await ServerFixture.StartAsync(repository);
            var started = new Started(app, address);
            await ServerFixture.WaitReadyAsync(started.Http);
            return started;
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            Http.Dispose();
            await _app.DisposeAsync();
        }
    }
}
