using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// <c>GET /v2/models[/{name}[/versions/{v}]]/stats</c>: Triton's statistics extension, each served
/// version's cumulative counts and durations since the server started. perf_analyzer, finding
/// "statistics" among the server's extensions, reads them before and after each measurement window
/// to split its latency into queue and compute (and stops when they fail). Access as for
/// <c>/metrics</c>, whose series they summarise.
/// </summary>
internal static class StatisticsEndpoint
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/v2/models/stats", (HttpContext ctx, InferenceEngine engine) => StatsAsync(ctx, engine, null, null));
        app.MapGet("/v2/models/{name}/stats", (HttpContext ctx, InferenceEngine engine, string name) => StatsAsync(ctx, engine, name, null));
        app.MapGet("/v2/models/{name}/versions/{version}/stats", (HttpContext ctx, InferenceEngine engine, string name, string version) => StatsAsync(ctx, engine, name, version));
    }

    private static async Task StatsAsync(HttpContext ctx, InferenceEngine engine, string? name, string? version)
    {
        var refusal = await Access.OperationsAsync(ctx, a => a.Metrics);
        if (refusal is not null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, refusal);
            return;
        }

        var versions = new List<ModelVersion>();
        if (Select(engine, name, version, versions) is { } notFound)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, notFound);
            return;
        }

        ctx.Response.ContentType = WireFormats.JsonType;
        var buffer = ResponseBuffer.ForThisThread();
        Write(buffer, versions);
        ResponseBuffer.Send(ctx.Response, buffer);
        await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>The versions a request names, in order: every served one, a model's, or one; otherwise the refusal (also gRPC's ModelStatistics).</summary>
    internal static Refusal? Select(InferenceEngine engine, string? name, string? version, List<ModelVersion> versions)
    {
        if (name is null)
        {
            foreach (var served in engine.Models.OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                versions.AddRange(served.Versions.OrderBy(v => v.Key).Select(v => v.Value));
            }
        }
        else if (version is null && engine.TryGetModel(name, out var served))
        {
            versions.AddRange(served.Versions.OrderBy(v => v.Key).Select(v => v.Value));
        }
        else
        {
            var status = engine.Find(name, version, out var model, out var error);
            if (status != InferenceStatus.Ok)
            {
                return Refusal.Of(status, error!);
            }

            versions.Add(model);
        }

        return null;
    }

    private static void Write(System.Buffers.IBufferWriter<byte> body, List<ModelVersion> versions)
    {
        using var w = new Utf8JsonWriter(body, MinimalJsonEncoder.WriterOptions);
        w.WriteStartObject();
        w.WriteStartArray("model_stats"u8);
        foreach (var v in versions)
        {
            var s = ModelStatistics.Of(v.Config.Name, v.VersionString)?.Read();
            w.WriteStartObject();
            w.WriteString("name"u8, v.Config.Name);
            w.WriteString("version"u8, v.VersionString);
            w.WriteNumber("last_inference"u8, s?.LastInferenceMs ?? 0);
            w.WriteNumber("inference_count"u8, s?.InferenceCount ?? 0);
            w.WriteNumber("execution_count"u8, s?.ExecutionCount ?? 0);
            w.WriteStartObject("inference_stats"u8);
            Duration(w, "success"u8, s?.SuccessCount ?? 0, s?.SuccessUs ?? 0);
            Duration(w, "fail"u8, s?.FailCount ?? 0, s?.FailUs ?? 0);
            Duration(w, "queue"u8, s?.QueueCount ?? 0, s?.QueueUs ?? 0);
            // The input copy into the batch buffer and the outputs' views are inside the model's
            // execution as timed here: compute_infer holds them, compute_input and _output are 0 ns.
            Duration(w, "compute_input"u8, s?.ComputeCount ?? 0, 0);
            Duration(w, "compute_infer"u8, s?.ComputeCount ?? 0, s?.ComputeUs ?? 0);
            Duration(w, "compute_output"u8, s?.ComputeCount ?? 0, 0);
            Duration(w, "cache_hit"u8, 0, 0);
            Duration(w, "cache_miss"u8, 0, 0);
            w.WriteEndObject();
            w.WriteStartArray("batch_stats"u8);
            foreach (var b in s?.Batches ?? [])
            {
                w.WriteStartObject();
                w.WriteNumber("batch_size"u8, b.Size);
                Duration(w, "compute_input"u8, b.Count, 0);
                Duration(w, "compute_infer"u8, b.Count, b.ComputeUs);
                Duration(w, "compute_output"u8, b.Count, 0);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Duration(Utf8JsonWriter w, ReadOnlySpan<byte> name, long count, long us)
    {
        w.WriteStartObject(name);
        w.WriteNumber("count"u8, count);
        w.WriteNumber("ns"u8, us * 1000);
        w.WriteEndObject();
    }
}
