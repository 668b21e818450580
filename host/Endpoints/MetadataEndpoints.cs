using System.Reflection;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;

namespace LowLatency.Host.Endpoints;

/// <summary>Server and model metadata and model readiness (KServe v2), always in JSON.</summary>
internal static class MetadataEndpoints
{
    private static readonly string Version = typeof(MetadataEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// The protocol extensions served, under Triton's names, so that a client that checks before
    /// using one finds it: the repository API (index, load with a config, unload), the per-request
    /// <c>priority</c> and <c>timeout</c> parameters, the model configuration (<c>.../config</c>),
    /// JSON bodies followed by binary tensors, and per-version statistics (<c>.../stats</c>).
    /// </summary>
    private static readonly string[] Extensions = ["model_repository", "schedule_policy", "model_configuration", "binary_tensor_data", "statistics"];

    public static void Map(WebApplication app)
    {
        app.MapGet("/v2", () => Results.Json(Server(), HostJson.Answers.ServerMetadata));
        app.MapGet("/v2/models/{name}", (HttpContext ctx, InferenceEngine engine, string name) => WithModelAccess(ctx, engine, name, null, MetadataCore));
        app.MapGet("/v2/models/{name}/versions/{version}", (HttpContext ctx, InferenceEngine engine, string name, string version) => WithModelAccess(ctx, engine, name, version, MetadataCore));
        app.MapGet("/v2/models/{name}/config", (HttpContext ctx, InferenceEngine engine, string name) => WithModelAccess(ctx, engine, name, null, ConfigurationCore));
        app.MapGet("/v2/models/{name}/versions/{version}/config", (HttpContext ctx, InferenceEngine engine, string name, string version) => WithModelAccess(ctx, engine, name, version, ConfigurationCore));
        app.MapGet("/v2/models/{name}/ready", (HttpContext ctx, InferenceEngine engine, string name) => WithModelAccess(ctx, engine, name, null, ReadyCore));
        app.MapGet("/v2/models/{name}/versions/{version}/ready", (HttpContext ctx, InferenceEngine engine, string name, string version) => WithModelAccess(ctx, engine, name, version, ReadyCore));
    }

    private static Task MetadataCore(HttpContext ctx, InferenceEngine engine, string name, string? version)
    {
        var refusal = Find(engine, name, version, out var model);
        if (refusal is not null)
        {
            return ErrorResponse.WriteAsync(ctx, WireFormat.Json, refusal);
        }

        return Results.Json(Describe(engine, model, name, version), HostJson.Answers.ModelMetadata).ExecuteAsync(ctx);
    }

    /// <summary>The server's name, version and extensions (<c>GET /v2</c>, gRPC's ServerMetadata).</summary>
    internal static ServerMetadata Server() => new("lowlatency", Version, Extensions);

    /// <summary>A found version's metadata: the model's served versions when none was named, else that one.</summary>
    internal static ModelMetadata Describe(InferenceEngine engine, ModelVersion model, string name, string? version)
    {
        engine.TryGetModel(name, out var served);
        var config = model.Config;
        var versions = version is null ? served.Versions.Values.Select(v => v.VersionString).ToList() : [model.VersionString];
        return new ModelMetadata(config.Name, versions, config.Platform, Tensors(config, config.ClientInputs), Tensors(config, config.Outputs));
    }

    // The configuration document the version was loaded with (Triton's model configuration
    // extension): perf_analyzer and Triton's clients read max_batch_size and the batching from it,
    // and after a load with a config override it shows what is served.
    private static Task ConfigurationCore(HttpContext ctx, InferenceEngine engine, string name, string? version)
    {
        var refusal = Find(engine, name, version, out var model);
        if (refusal is not null)
        {
            return ErrorResponse.WriteAsync(ctx, WireFormat.Json, refusal);
        }

        return Results.Text(model.Config.Document, "application/json", System.Text.Encoding.UTF8).ExecuteAsync(ctx);
    }

    /// <summary>Runs <paramref name="core"/> once the caller may infer on the model (or is admin); otherwise the refusal is sent.</summary>
    private static async Task WithModelAccess(HttpContext ctx, InferenceEngine engine, string name, string? version, Func<HttpContext, InferenceEngine, string, string?, Task> core)
    {
        var refusal = await Access.ModelAsync(ctx, name);
        if (refusal is not null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, refusal);
            return;
        }

        await core(ctx, engine, name, version);
    }

    /// <summary>The served version a request names; otherwise the refusal (503 while loading, 404 unknown, 400 a malformed version).</summary>
    internal static Refusal? Find(InferenceEngine engine, string name, string? version, out ModelVersion model)
    {
        if (!engine.IsReady)
        {
            model = null!;
            return new Refusal(StatusCodes.Status503ServiceUnavailable, "the server is not ready: models are loading");
        }

        var status = engine.Find(name, version, out model, out var error);
        return status == InferenceStatus.Ok ? null : Refusal.Of(status, error!);
    }

    private static Task ReadyCore(HttpContext ctx, InferenceEngine engine, string name, string? version)
    {
        if (!engine.IsReady)
        {
            // The name as the URL gave it, which may name nothing served: cut as an error would quote it.
            return Results.Json(new ModelReady(ClientText.Truncate(name, ClientText.MaxQuotedChars), false), HostJson.Answers.ModelReady, statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(ctx);
        }

        var status = engine.Find(name, version, out _, out var error);
        if (status != InferenceStatus.Ok)
        {
            return ErrorResponse.WriteAsync(ctx, WireFormat.Json, Refusal.Of(status, error!));
        }

        return Results.Json(new ModelReady(name, true), HostJson.Answers.ModelReady).ExecuteAsync(ctx);
    }

    // Shapes include the batch dimension as -1 when the model batches, as Triton reports them.
    private static List<TensorMetadata> Tensors(ModelConfig config, IReadOnlyList<TensorConfig> tensors) =>
        tensors.Select(t => new TensorMetadata(t.Name, t.DataType.ProtocolName(), config.Batched ? [-1, .. t.Dims] : t.Dims)).ToList();
}
