using Google.Protobuf;
using Grpc.Core;
using Inference;
using LowLatency.Engine.Config;
using LowLatency.Engine.Serving;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Endpoints;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;

namespace LowLatency.Host.Grpc;

/// <summary>
/// <c>inference.GRPCInferenceService</c>'s RPCs other than ModelInfer (<see cref="GrpcInferEndpoint"/>)
/// and ModelStreamInfer (<see cref="GrpcStreamInfer"/>), each answering what its REST route answers
/// through the same code (Endpoints: metadata, statistics, repository, health) and the same access
/// checks. Bound by <see cref="GrpcServiceMethods"/>, by method name; an RPC this type lacks
/// (shared memory, trace and log settings) answers UNIMPLEMENTED.
/// </summary>
internal sealed class GrpcInferenceService(GrpcServices services)
{

    private static readonly JsonParser ConfigParser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private InferenceEngine Engine => services.Engine;

    public async Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context)
    {
        await Check(Access.OperationsAsync(context.GetHttpContext(), a => a.Health));
        return new ServerLiveResponse { Live = true };
    }

    public async Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context)
    {
        await Check(Access.OperationsAsync(context.GetHttpContext(), a => a.Health));
        return new ServerReadyResponse { Ready = Engine.IsReady };
    }

    public async Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        string name = Required(request.Name, "name");
        await Check(Access.ModelAsync(context.GetHttpContext(), services.Access, name));
        if (!Engine.IsReady)
        {
            return new ModelReadyResponse { Ready = false };
        }

        var status = Engine.Find(name, Optional(request.Version), out _, out var error);
        return status == LowLatency.Engine.Requests.InferenceStatus.Ok ? new ModelReadyResponse { Ready = true } : throw GrpcStatus.Exception(Refusal.Of(status, error!));
    }

    public Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var doc = MetadataEndpoints.Server();
        var answer = new ServerMetadataResponse { Name = doc.Name, Version = doc.Version };
        answer.Extensions.AddRange(doc.Extensions);
        return Task.FromResult(answer);
    }

    public async Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        string name = Required(request.Name, "name");
        await Check(Access.ModelAsync(context.GetHttpContext(), services.Access, name));
        string? version = Optional(request.Version);
        var model = Find(name, version);
        var doc = MetadataEndpoints.Describe(Engine, model, name, version);
        var answer = new ModelMetadataResponse { Name = doc.Name, Platform = doc.Platform };
        answer.Versions.AddRange(doc.Versions);
        foreach (var t in doc.Inputs)
        {
            answer.Inputs.Add(Tensor(t));
        }

        foreach (var t in doc.Outputs)
        {
            answer.Outputs.Add(Tensor(t));
        }

        return answer;
    }

    public async Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context)
    {
        string name = Required(request.Name, "name");
        await Check(Access.ModelAsync(context.GetHttpContext(), services.Access, name));
        var model = Find(name, Optional(request.Version));
        // The document the version was loaded with, read into Triton's ModelConfig; this server's own
        // extensions (qos, traffic, health, fallback) have no field there and are left out.
        return new ModelConfigResponse { Config = ConfigParser.Parse<Inference.ModelConfig>(model.Config.Document) };
    }

    public async Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context)
    {
        await Check(Access.OperationsAsync(context.GetHttpContext(), a => a.Metrics));
        var versions = new List<ModelVersion>();
        if (StatisticsEndpoint.Select(Engine, Optional(request.Name), Optional(request.Version), versions) is { } refusal)
        {
            throw GrpcStatus.Exception(refusal);
        }

        var answer = new ModelStatisticsResponse();
        foreach (var v in versions)
        {
            answer.ModelStats.Add(GrpcStatistics.Of(v));
        }

        return answer;
    }

    public async Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context)
    {
        await Check(Access.AdminAsync(context.GetHttpContext(), services.Access));
        var answer = new RepositoryIndexResponse();
        foreach (var e in Engine.Index(request.Ready))
        {
            answer.Models.Add(new RepositoryIndexResponse.Types.ModelIndex { Name = e.Name, Version = e.Version ?? "", State = e.State ?? "", Reason = e.Reason ?? "" });
        }

        return answer;
    }

    public async Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context)
    {
        await Check(Access.AdminAsync(context.GetHttpContext(), services.Access));
        string name = Required(request.ModelName, "model_name");
        string? config = null;
        foreach (var (key, value) in request.Parameters)
        {
            if (key == "config")
            {
                config = value.ParameterChoiceCase == ModelRepositoryParameter.ParameterChoiceOneofCase.StringParam
                    ? value.StringParam
                    : throw Invalid("parameters.config: expected the configuration as a JSON string (string_param)");
            }
            else if (key.StartsWith("file:", StringComparison.Ordinal))
            {
                // Triton's model files in the request: this server loads only what its repository holds.
                throw Invalid($"parameters {ClientText.Quoted(key)}: model files in the request are not supported; put them in the model repository");
            }
        }

        Answer(await Engine.LoadModelAsync(name, config));
        return new RepositoryModelLoadResponse();
    }

    public async Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context)
    {
        await Check(Access.AdminAsync(context.GetHttpContext(), services.Access));
        Answer(await Engine.UnloadModelAsync(Required(request.ModelName, "model_name")));
        return new RepositoryModelUnloadResponse();
    }

    private static async Task Check(ValueTask<Refusal?> check)
    {
        if (await check is { } refusal)
        {
            throw GrpcStatus.Exception(refusal);
        }
    }

    private static void Answer(RepositoryOutcome outcome)
    {
        if (!outcome.Succeeded)
        {
            throw new RpcException(new Status(GrpcStatus.FromHttp(outcome.Status), outcome.Error ?? ""));
        }
    }

    /// <summary>The served version a request names; otherwise the REST route's refusal as a status.</summary>
    private ModelVersion Find(string name, string? version) =>
        MetadataEndpoints.Find(Engine, name, version, out var model) is { } refusal ? throw GrpcStatus.Exception(refusal) : model;

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(TensorMetadata t)
    {
        var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = t.Name, Datatype = t.Datatype };
        tensor.Shape.AddRange(t.Shape);
        return tensor;
    }

    private static string Required(string value, string field) => value.Length > 0 ? value : throw Invalid($"'{field}' is required");

    /// <summary>An empty string is proto3's absent field.</summary>
    private static string? Optional(string value) => value.Length > 0 ? value : null;

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
