using Grpc.Core;
using Grpc.Health.V1;
using Inference;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// The RPCs besides inference answer what their REST routes answer (the same documents, read
/// through the generated client); shared memory and trace settings are UNIMPLEMENTED saying so; the
/// health service reports the server and each model; each listener serves only its own routes.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrpcServiceTests(ServerFixture server) : IDisposable
{
    private readonly global::Grpc.Net.Client.GrpcChannel _channel = GrpcWire.Channel(server.GrpcAddress);

    private GRPCInferenceService.GRPCInferenceServiceClient Client => GrpcWire.Client(_channel);

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task Liveness_readiness_and_server_metadata()
    {
        Assert.True((await Client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await Client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var metadata = await Client.ServerMetadataAsync(new ServerMetadataRequest());
        Assert.Equal("lowlatency", metadata.Name);
        Assert.Contains("model_repository", metadata.Extensions);
        Assert.Contains("statistics", metadata.Extensions);
    }

    [Fact]
    public async Task Model_readiness_metadata_and_config_match_the_REST_routes()
    {
        Assert.True((await Client.ModelReadyAsync(new ModelReadyRequest { Name = "ctr-ranker" })).Ready);
        Assert.True((await Client.ModelReadyAsync(new ModelReadyRequest { Name = "ctr-ranker", Version = "1" })).Ready);

        var metadata = await Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "ctr-ranker" });
        Assert.Equal("ctr-ranker", metadata.Name);
        Assert.Equal(["1"], metadata.Versions);
        Assert.Equal("pytorch_libtorch", metadata.Platform);
        Assert.Equal(["sparse", "dense"], metadata.Inputs.Select(t => t.Name));
        Assert.Equal([-1L, 26], metadata.Inputs[0].Shape);
        Assert.Equal("INT64", metadata.Inputs[0].Datatype);
        Assert.Equal("probability", Assert.Single(metadata.Outputs).Name);

        var config = (await Client.ModelConfigAsync(new ModelConfigRequest { Name = "text-encoder" })).Config;
        Assert.Equal("text-encoder", config.Name);
        Assert.Equal(16, config.MaxBatchSize);
        Assert.Equal(DataType.TypeInt64, config.Input[0].DataType);
        Assert.Equal([-1L], config.Input[0].Dims);
        Assert.Equal("128", config.Parameters["max_variable_dim"].StringValue);
        Assert.Equal(500UL, config.DynamicBatching.MaxQueueDelayMicroseconds);
    }

    [Theory]
    [InlineData("no-such-model", "", StatusCode.NotFound, "unknown model 'no-such-model'")]
    [InlineData("ctr-ranker", "7", StatusCode.NotFound, "has no version 7")]
    [InlineData("ctr-ranker", "x1", StatusCode.InvalidArgument, "version 'x1' is not a positive integer")]
    [InlineData("", "", StatusCode.InvalidArgument, "'name' is required")]
    public async Task Unknown_models_and_versions_get_the_REST_routes_answers_as_statuses(string name, string version, StatusCode status, string expected)
    {
        foreach (var call in new Func<Task>[]
        {
            async () => await Client.ModelMetadataAsync(new ModelMetadataRequest { Name = name, Version = version }),
            async () => await Client.ModelConfigAsync(new ModelConfigRequest { Name = name, Version = version }),
            async () => await Client.ModelReadyAsync(new ModelReadyRequest { Name = name, Version = version }),
        })
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(status, e.StatusCode);
            Assert.Contains(expected, e.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Statistics_count_gRPC_inference_as_REST_counts_its_own()
    {
        var before = (await Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "image-classifier", Version = "1" })).ModelStats.Single();
        var golden = GoldenCase.Load("image-classifier", "batch3");
        await Client.ModelInferAsync(GrpcWire.Request("image-classifier", golden.Request, raw: true));
        var after = (await Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "image-classifier" })).ModelStats.Single();
        Assert.Equal("1", after.Version);
        Assert.True(after.InferenceStats.Success.Count >= before.InferenceStats.Success.Count + 1);
        Assert.True(after.InferenceCount >= before.InferenceCount + 3);
        Assert.Contains(after.BatchStats, b => b.BatchSize >= 3);

        var all = await Client.ModelStatisticsAsync(new ModelStatisticsRequest());
        Assert.Equal(["ctr-ranker", "image-classifier", "text-encoder"], all.ModelStats.Select(s => s.Name));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "nope" }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task The_repository_index_lists_every_model_and_a_load_of_an_unknown_name_is_NOT_FOUND()
    {
        var index = await Client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true });
        Assert.Equal(["ctr-ranker", "image-classifier", "text-encoder"], index.Models.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal));
        Assert.All(index.Models, m => Assert.Equal("READY", m.State));

        var e = await Assert.ThrowsAsync<RpcException>(async () => await Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "no-such-model" }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(async () => await Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest
        {
            ModelName = "ctr-ranker",
            Parameters = { ["file:1/model.pt"] = new ModelRepositoryParameter { BytesParam = Google.Protobuf.ByteString.CopyFrom(1, 2) } },
        }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("model files in the request are not supported", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shared_memory_and_trace_settings_are_UNIMPLEMENTED_saying_so()
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => await Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest()));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Contains("SystemSharedMemoryStatus is not implemented by this server: it has no shared memory regions", e.Status.Detail, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<RpcException>(async () => await Client.CudaSharedMemoryRegisterAsync(new CudaSharedMemoryRegisterRequest()));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(async () => await Client.TraceSettingAsync(new TraceSettingRequest()));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Contains("trace settings", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_reports_the_server_and_each_served_model()
    {
        var health = new Health.HealthClient(_channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
        foreach (var model in new[] { "ctr-ranker", "image-classifier", "text-encoder" })
        {
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = model })).Status);
        }

        var e = await Assert.ThrowsAsync<RpcException>(async () => await health.CheckAsync(new HealthCheckRequest { Service = "no-such-model" }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task Each_listener_serves_its_own_routes_only()
    {
        // gRPC on the REST listener (h2c, as a client pointed at the wrong port would send it): 404.
        using var wrongPort = GrpcWire.Channel(server.BaseAddress);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await GrpcWire.Client(wrongPort).ServerLiveAsync(new ServerLiveRequest()));
        Assert.NotEqual(StatusCode.OK, e.StatusCode);
        // ModelInfer too, though the host matches it ahead of routing: only on the gRPC listener, so
        // the call is refused before it reaches the handler (which counts every answer it gives).
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        double Answered(string metrics) => PrometheusText.Value(metrics, "lowlatency_host_responses", "ctr-ranker", "protocol=\"grpc\",code=\"OK\"", version: false);
        double before = Answered(await server.Client.GetStringAsync("/metrics"));
        e = await Assert.ThrowsAsync<RpcException>(async () => await GrpcWire.Client(wrongPort).ModelInferAsync(GrpcWire.Request("ctr-ranker", golden.Request, raw: true)));
        Assert.NotEqual(StatusCode.OK, e.StatusCode);
        Assert.Equal(before, Answered(await server.Client.GetStringAsync("/metrics")));

        // REST on the gRPC listener: 404.
        using var http2 = new HttpClient { BaseAddress = server.GrpcAddress, DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var ready = await http2.GetAsync("/v2/health/ready");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, ready.StatusCode);
        using var infer = await http2.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(GoldenCase.Load("ctr-ranker", "batch1").Request.ToMsgPack(), Wire.MsgPack));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, infer.StatusCode);
    }

    [Fact]
    public async Task Unknown_RPC_names_are_UNIMPLEMENTED_and_create_no_metric_series()
    {
        var invoker = _channel.CreateCallInvoker();
        foreach (var (service, method) in new[] { ("inference.GRPCInferenceService", "NoSuchMethod-x7q"), ("no.such.Service-x7q", "Infer") })
        {
            var rpc = new Method<ServerLiveRequest, ServerLiveResponse>(MethodType.Unary, service, method,
                Marshallers.Create<ServerLiveRequest>(r => Google.Protobuf.MessageExtensions.ToByteArray(r), ServerLiveRequest.Parser.ParseFrom),
                Marshallers.Create<ServerLiveResponse>(r => Google.Protobuf.MessageExtensions.ToByteArray(r), ServerLiveResponse.Parser.ParseFrom));
            var e = await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(rpc, null, default, new ServerLiveRequest()));
            Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        }

        string metrics = await server.Client.GetStringAsync("/metrics");
        Assert.DoesNotContain("x7q", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task gRPC_answers_are_counted_with_protocol_grpc_and_unknown_model_names_are_not_labels()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        await Client.ModelInferAsync(GrpcWire.Request("ctr-ranker", golden.Request, raw: true));
        await Assert.ThrowsAsync<RpcException>(async () => await Client.ModelInferAsync(GrpcWire.Request("no-such-model-g5", golden.Request, raw: true)));
        string text = await server.Client.GetStringAsync("/metrics");
        Assert.True(PrometheusText.Value(text, "lowlatency_host_responses", "ctr-ranker", "protocol=\"grpc\",code=\"OK\"", version: false) >= 1);
        Assert.True(PrometheusText.Value(text, "lowlatency_host_responses", "unknown", "protocol=\"grpc\",code=\"NOT_FOUND\"", version: false) >= 1);
        Assert.DoesNotContain("no-such-model-g5", text, StringComparison.Ordinal);
        // ASP.NET Core's request metric has the route, though ModelInfer is matched ahead of routing.
        Assert.Matches(new System.Text.RegularExpressions.Regex("microsoft_aspnetcore_hosting_http_server_request_duration_count\\{[^}]*http_route=\"/inference.GRPCInferenceService/ModelInfer\""), text);
    }
}
