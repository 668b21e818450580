using System.Globalization;
using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Engine.Serving;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Memory;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// Model control, compatible with Triton's repository extension (<c>index</c>, <c>load</c>,
/// <c>unload</c>), plus this server's traffic policy (<c>GET</c>/<c>PUT .../traffic</c>). JSON only;
/// bodies are small documents, read whole (at most 1 MiB). Model names from the URL reach the file
/// system only through the repository's name check.
/// </summary>
internal static class RepositoryEndpoints
{
    /// <summary>The largest body a repository route takes; the gRPC control RPCs take the same.</summary>
    internal const int MaxBody = 1 << 20;

    public static void Map(WebApplication app)
    {
        // Every route here needs the 'admin' scope when authentication is on.
        var group = app.MapGroup("/v2/repository").AddEndpointFilter(async (context, next) =>
        {
            var refusal = await Access.AdminAsync(context.HttpContext);
            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(context.HttpContext, WireFormat.Json, refusal);
                return Results.Empty;
            }

            return await next(context);
        });
        // After access: each request holds its body's place in the body budget while it runs (a load
        // for seconds), which also counts it for shutdown's report.
        var bodies = app.Services.GetRequiredService<BodyBudget>();
        var unanswered = app.Services.GetRequiredService<Unanswered>();
        var engine = app.Services.GetRequiredService<InferenceEngine>();
        group.AddEndpointFilter(async (context, next) =>
        {
            var ctx = context.HttpContext;
            long bytes = Math.Min(ctx.Request.ContentLength ?? InferenceEndpoint.UnknownLength(ctx, MaxBody), MaxBody);
            if (!bodies.TryReserve(bytes, out long reservation))
            {
                await ErrorResponse.WriteAsync(ctx, WireFormat.Json, InferenceEndpoint.BudgetFull(bytes, bodies.Limit));
                return Results.Empty;
            }

            try
            {
                return await next(context);
            }
            finally
            {
                bodies.Release(reservation);
                unanswered.CountIfCut(ctx, engine.IsStopping);
            }
        });
        group.MapPost("/index", IndexAsync);
        group.MapPost("/models/{name}/load", LoadAsync);
        group.MapPost("/models/{name}/unload", UnloadAsync);
        group.MapGet("/models/{name}/traffic", GetTraffic);
        group.MapPut("/models/{name}/traffic", PutTrafficAsync);
        group.MapPut("/models/{name}/instances", (HttpContext ctx, InferenceEngine engine, string name) => PutInstancesAsync(ctx, engine, name, null));
        group.MapPut("/models/{name}/versions/{version}/instances", PutInstancesAsync);
        AliasEndpoints.Map(group);
    }

    private static async Task IndexAsync(HttpContext ctx, InferenceEngine engine)
    {
        using var body = await ReadAsync(ctx);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        bool readyOnly = false;
        if (body.Root is { } root)
        {
            if (root.ValueKind != JsonValueKind.Object || (root.TryGetProperty("ready", out var r) && r.ValueKind is not (JsonValueKind.True or JsonValueKind.False)))
            {
                await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, "expected {\"ready\": true|false} or an empty body");
                return;
            }

            readyOnly = root.TryGetProperty("ready", out var ready) && ready.GetBoolean();
        }

        ctx.Response.ContentType = WireFormats.JsonType;
        using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, MinimalJsonEncoder.WriterOptions);
        w.WriteStartArray();
        foreach (var e in engine.Index(readyOnly))
        {
            w.WriteStartObject();
            w.WriteString("name", e.Name);
            if (e.Version is not null)
            {
                w.WriteString("version", e.Version);
            }

            if (e.State is not null)
            {
                w.WriteString("state", e.State);
                w.WriteString("reason", e.Reason ?? string.Empty);
            }

            if (e.Instances is { } instances)
            {
                w.WriteNumber("instances", instances);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        await w.FlushAsync();
    }

    private static async Task LoadAsync(HttpContext ctx, InferenceEngine engine, string name)
    {
        using var body = await ReadAsync(ctx);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        string? config = null;
        string? problem = null;
        if (body.Root is { } root)
        {
            // Triton passes the config as a JSON string; an object is accepted as well.
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "expected {\"parameters\": {\"config\": \"<config.json>\"}} or an empty body";
            }
            else if (root.TryGetProperty("parameters", out var p))
            {
                if (p.ValueKind != JsonValueKind.Object)
                {
                    problem = "parameters: expected an object";
                }
                else if (p.TryGetProperty("config", out var c))
                {
                    config = c.ValueKind switch
                    {
                        JsonValueKind.String => c.GetString(),
                        JsonValueKind.Object => c.GetRawText(),
                        _ => null,
                    };
                    problem = config is null ? "parameters.config: expected the configuration as a JSON string or object" : null;
                }
            }
        }

        if (problem is not null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, problem);
            return;
        }

        await AnswerAsync(ctx, await engine.LoadModelAsync(name, config));
    }

    private static async Task UnloadAsync(HttpContext ctx, InferenceEngine engine, string name)
    {
        using var body = await ReadAsync(ctx);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        await AnswerAsync(ctx, await engine.UnloadModelAsync(name));
    }

    private static Task GetTraffic(HttpContext ctx, InferenceEngine engine, string name)
    {
        if (!engine.TryGetModel(name, out var served))
        {
            return ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status404NotFound, $"model '{name}' is not being served");
        }

        // The weights in force and each participant's circuit, so an operator sees where traffic goes.
        ctx.Response.ContentType = WireFormats.JsonType;
        using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, MinimalJsonEncoder.WriterOptions);
        w.WriteStartObject();
        w.WriteStartObject("traffic");
        foreach (var (v, weight) in served.Traffic.OrderBy(p => p.Key))
        {
            w.WriteNumber(v.ToString(CultureInfo.InvariantCulture), weight);
        }

        w.WriteEndObject();
        w.WriteString("source", served.Traffic.Count == 0 ? "default: all to the latest version" : served.TrafficFromApi ? "api" : "config");
        w.WriteStartArray("versions");
        foreach (var (version, weight) in served.Participants)
        {
            w.WriteStartObject();
            w.WriteString("version", version.VersionString);
            w.WriteNumber("weight", weight);
            w.WriteString("breaker", version.Health.State switch
            {
                Engine.Routing.BreakerState.Open => "open",
                Engine.Routing.BreakerState.HalfOpen => "half_open",
                _ => "closed",
            });
            if (version.Health.Reason is { } reason)
            {
                w.WriteString("reason", reason);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        return ctx.Response.BodyWriter.FlushAsync().AsTask();
    }

    private static async Task PutTrafficAsync(HttpContext ctx, InferenceEngine engine, string name)
    {
        using var body = await ReadAsync(ctx);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        if (body.Root is null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, "expected a traffic document such as {\"1\": 90, \"2\": 10} ({} for all to the latest version)");
            return;
        }

        Dictionary<long, int> weights;
        try
        {
            weights = ModelConfigReader.ParseTraffic(body.Root.Value, "the request body");
        }
        catch (ModelConfigException e)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, e.Message);
            return;
        }

        await AnswerAsync(ctx, engine.SetTraffic(name, weights));
    }

    /// <summary>
    /// <c>PUT .../instances</c> with <c>{"count": N}</c> (and <c>"group"</c>, the instance group's name,
    /// where the model has several): the version's device workers, changed without a reload.
    /// </summary>
    private static async Task PutInstancesAsync(HttpContext ctx, InferenceEngine engine, string name, string? version)
    {
        using var body = await ReadAsync(ctx);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        string? problem = null;
        int count = 0;
        string? group = null;
        if (body.Root is not { ValueKind: JsonValueKind.Object } root)
        {
            problem = "expected {\"count\": N} (and \"group\": \"<instance group name>\" where the model has several)";
        }
        else
        {
            problem = InstancesBody(root, out count, out group);
        }

        if (problem is not null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, problem);
            return;
        }

        await AnswerAsync(ctx, await engine.SetInstancesAsync(name, version, group, count));
    }

    /// <summary>The instance document's problem, naming the field, or null.</summary>
    private static string? InstancesBody(JsonElement root, out int count, out string? group)
    {
        count = 0;
        group = null;
        foreach (var p in root.EnumerateObject())
        {
            if (p.Name is not ("count" or "group"))
            {
                return $"{ClientText.Quoted(p.Name)}: unknown field (expected count and, optionally, group)";
            }
        }

        if (!root.TryGetProperty("count", out var c))
        {
            return $"count: missing (the number of instances, 1 … {InstanceCounts.Max})";
        }

        if (c.ValueKind != JsonValueKind.Number || !c.TryGetInt32(out count))
        {
            return $"count: expected an integer within 1 … {InstanceCounts.Max}, found {ClientText.Truncate(c.GetRawText(), ClientText.MaxQuotedChars)}";
        }

        if (root.TryGetProperty("group", out var g))
        {
            group = g.ValueKind == JsonValueKind.String ? g.GetString() : null;
            return group is null ? "group: expected the instance group's name as a string" : null;
        }

        return null;
    }

    private static Task AnswerAsync(HttpContext ctx, RepositoryOutcome outcome)
    {
        if (!outcome.Succeeded)
        {
            return ErrorResponse.WriteAsync(ctx, WireFormat.Json, outcome.Status, outcome.Error!);
        }

        ctx.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    }

    /// <summary>The request's body, at most <see cref="MaxBody"/> bytes: parsed as JSON, or with <paramref name="parse"/> false as its bytes.</summary>
    internal static async Task<Body> ReadAsync(HttpContext ctx, bool parse = true)
    {
        if (ctx.Request.ContentLength > MaxBody)
        {
            return new Body(null, $"the body exceeds {MaxBody} bytes");
        }

        if (ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBody;
        }

        using var buffer = new MemoryStream();
        try
        {
            await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
        }
        catch (Exception e) when (ClientFault.Is(e))
        {
            // Malformed chunking, a chunked body over the limit (413), a client gone: the client's
            // doing, answered where it can still be, never an application error with its trace.
            var answer = ClientFault.Answer(ctx, e);
            var log = ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(ClientFaultLog.Category);
            ClientFaultLog.Write(log, "repository", answer?.StatusCode ?? StatusCodes.Status499ClientClosedRequest, answer?.Message ?? ClientFault.Gone(e));
            return answer is null ? Body.Gone : new Body(null, answer.Message, answer.StatusCode);
        }

        if (buffer.Length > MaxBody)
        {
            return new Body(null, $"the body exceeds {MaxBody} bytes");
        }

        if (buffer.Length == 0)
        {
            return new Body(null, null);
        }

        if (!parse)
        {
            return new Body(null, null, Bytes: buffer.ToArray());
        }

        try
        {
            return new Body(JsonDocument.Parse(buffer.ToArray()), null);
        }
        catch (JsonException e)
        {
            return new Body(null, "malformed JSON body: " + e.Message);
        }
    }

    /// <param name="Status">The status <see cref="Error"/> is answered with.</param>
    /// <param name="Bytes">The body as it came, when it was read without parsing (not empty).</param>
    internal sealed record Body(JsonDocument? Document, string? Error, int Status = StatusCodes.Status400BadRequest, byte[]? Bytes = null) : IDisposable
    {
        /// <summary>The client went away before its body was read: nothing is answered.</summary>
        public static readonly Body Gone = new(null, "the client went away", StatusCodes.Status499ClientClosedRequest);

        public JsonElement? Root => Document?.RootElement;

        /// <summary>Answers <see cref="Error"/> with its status, unless the client is gone.</summary>
        public Task RefuseAsync(HttpContext ctx) =>
            ReferenceEquals(this, Gone) ? Task.CompletedTask : ErrorResponse.WriteAsync(ctx, WireFormat.Json, Status, Error!);

        public void Dispose() => Document?.Dispose();
    }
}
