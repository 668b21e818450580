using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Serving;
using LowLatency.Gateway;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Memory;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;
using LowLatency.Join;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// <c>POST /v2/models/{name}[/versions/{version}]/infer</c>: check the request, read the body from
/// Kestrel's pipe, decode it into an engine request and submit it, await the engine, write the answer.
/// </summary>
internal static partial class InferenceEndpoint
{
    /// <summary>A request carrying this header always lands on the same version while the traffic weights are unchanged.</summary>
    public const string RoutingKeyHeader = "X-Routing-Key";

    /// <summary>Set on an answer a fallback gave because no version of the model was healthy.</summary>
    public const string DegradedHeader = "X-LowLatency-Degraded";

    /// <summary>
    /// The inference routes: matched by hand ahead of endpoint routing (<see cref="InferenceRoute"/>;
    /// so call this before <c>UseRouting</c>), and as routes for every other form of their URLs. On a
    /// connection of the gRPC listener (<paramref name="onGrpcListener"/>, null when there is none) the
    /// hand match steps aside: those connections serve gRPC routes only.
    /// </summary>
    public static void Map(WebApplication app, long maxRequestBodyBytes, Func<HttpContext, bool>? onGrpcListener)
    {
        // Resolved once, not per request: asking the request's services would make its service
        // scope, which nothing else on this route needs (docs/performance.md#host-request-path).
        var services = new Services(
            app.Services.GetRequiredService<InferenceEngine>(),
            maxRequestBodyBytes,
            app.Services.GetRequiredService<RateLimits>(),
            app.Services.GetRequiredService<AccessOptions>(),
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(ClientFaultLog.Category),
            app.Services.GetRequiredService<BodyBudget>(),
            app.Services.GetRequiredService<Unanswered>(),
            app.Services.GetService<FeatureJoiner>(),
            app.Services.GetRequiredService<ModelGateway>());
        var names = new RouteNames();
        var routes = new InferenceRoute.Endpoints(app.Services);
        app.Use((ctx, next) =>
        {
            if (!HttpMethods.IsPost(ctx.Request.Method)
                || !InferenceRoute.TryMatch(ctx.Request.Path.Value, out var nameText, out var versionText)
                || (onGrpcListener is not null && onGrpcListener(ctx)))
            {
                return next(ctx);
            }

            bool kept = names.TryGet(nameText, out string name);
            string? version = null;
            if (!versionText.IsEmpty)
            {
                kept &= names.TryGet(versionText, out version);
            }

            // As routing would have: ASP.NET Core's request metric takes its http.route label from it.
            ctx.SetEndpoint(version is null ? routes.Model : routes.Version);
            var task = InferAsync(ctx, services, name, version);
            return kept ? task : KeepWhenRouted(task, ctx, names, name, version);
        });
        app.MapPost(InferenceRoute.ModelPattern, (HttpContext ctx, string name) => InferAsync(ctx, services, name, null));
        app.MapPost(InferenceRoute.VersionPattern, (HttpContext ctx, string name, string version) => InferAsync(ctx, services, name, version));
    }

    /// <summary>Keeps a URL's new names once a request to them was routed (not a 404: names the server serves).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task KeepWhenRouted(Task request, HttpContext ctx, RouteNames names, string name, string? version)
    {
        await request;
        if (ctx.Response.StatusCode != StatusCodes.Status404NotFound)
        {
            names.Keep(name);
            if (version is not null)
            {
                names.Keep(version);
            }
        }
    }

    /// <summary>
    /// The request's steps: what the headers decide, the body, where an alias sends it, decode and
    /// submit, the engine's answer. The wait for the engine stays in this one method, on purpose: an
    /// async method awaiting another gets a state-machine box of its own when the inner one goes
    /// asynchronous, as awaiting the engine always does (docs/performance.md#host-request-path). So a
    /// step that does not wait is a synchronous helper, one that seldom waits (the body, a feature
    /// join on a cache miss) a pooled one, and a step that refuses the request returns a
    /// <see cref="Refusal"/> (null: go on), which is written and ends it.
    /// </summary>
    private static async Task InferAsync(HttpContext ctx, Services services, string name, string? version)
    {
        var admission = default(Admission);
        var responseFormat = WireFormat.Json;
        try
        {
            // What the headers and the URL decide, before the body is read.
            var refusal = CheckHeaders(ctx.Request, services.Engine, out var requestFormat, out responseFormat)
                ?? await Access.InferAsync(ctx, services.Access, name)
                ?? Admit(ctx, services, name, version, ref admission);
            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
                return;
            }

            // The whole body, or enough of it to know it is too large.
            var reader = ctx.Request.BodyReader;
            var read = await ReadBodyAsync(ctx, reader, services.MaxRequestBodyBytes, services.ClientFaults);
            if (read.Ended)
            {
                if (read.Refusal is not null)
                {
                    await ErrorResponse.WriteAsync(ctx, responseFormat, read.Refusal);
                }

                return;
            }

            var body = read.Body;
            if (admission.Call.RulesPending)
            {
                // The alias's rules, on the body as read: they may send it elsewhere before it is decoded.
                RuleStep.Apply(ctx, services.Engine, requestFormat, body, ref admission.Routed, ref admission.IsRouted, ref admission.Call, ref admission.Counted!);
            }

            if (admission.Call.IsRemote)
            {
                // A remote backend's: forwarded as read. Its attempts are counted by the gateway; a
                // retry that lands on a local backend goes on below as any local request.
                // The forward finishes the backend's call itself (each attempt counts in its window):
                // not again when the request ends, even if the forward throws.
                var call = admission.Call;
                admission.Call = default;
                var local = await RemoteStep.RunAsync(ctx, services.Engine, call, reader, body, responseFormat);
                if (local is null)
                {
                    return;
                }

                admission.RunLocally(local.Routed, local.Call);
            }

            // Disposed at the end of this block, before the route is released below.
            using var request = admission.Routed.Version.RentRequest();
            // Tracing off (no listener): one check. On: the request's span, parent of its queue and execute spans.
            using var span = EngineTracing.Enabled ? StartSpan(request, admission.Routed.Version) : null;
            refusal = Submit(request, admission.Routed, requestFormat, reader, body, ctx.Request.Headers[BinaryTensorData.HeaderName], services.Joiner, out var completion, out var binaryOutputs, out var joined, out var pendingJoin);
            if (refusal is null && pendingJoin is not null)
            {
                // A feature join that waits for the store (a near-cache miss): submitted once the rows are in.
                (refusal, joined, completion) = await SubmitJoinedAsync(request, admission.Routed, reader, body, pendingJoin.Value);
            }

            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
                return;
            }

            if (!completion.IsCompleted)
            {
                // A client that goes away while the engine holds its request cancels it: it leaves its
                // queue and never runs, unless it was batched already. The registration lives on the
                // pooled request (this method's state, allocated per request, stays as it was) and
                // ends when the request is disposed.
                request.CancelWhen(ctx.RequestAborted);
            }

            bool ok;
            try
            {
                ok = await completion;
            }
            finally
            {
                // The request borrowed its tensor bytes from the body's buffers (MessagePack): they go
                // back to Kestrel only once the engine has answered, which is after the worker copied them.
                reader.AdvanceTo(body.End);
            }

            RecordTiming(ctx.Response, span, request);
            if (!ok)
            {
                // Its client gone (nothing is written, the 499 is counted below), or the engine's error.
                if (Unanswerable(ctx, request, services.ClientFaults) is { } failed)
                {
                    await ErrorResponse.WriteAsync(ctx, responseFormat, failed);
                }

                return;
            }

            WriteAnswer(ctx.Response, responseFormat, request, admission.Routed, binaryOutputs, joined.Statuses);
            // The outputs are in the response's buffers now: let go of the batch's output tensors before
            // the flush, which may wait on a slow client.
            request.ReleaseOutputs();
            await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
        }
        catch (Exception e) when (ClientFault.Is(e))
        {
            // Past the body: the client went away while its answer was sent (counted as what was
            // sent). Anything else is answered as the request ends, without an await here.
            if (BodyFault(ctx, e, services.ClientFaults) is { } answer)
            {
                ErrorResponse.Write(ctx, responseFormat, answer.StatusCode, answer.Message);
            }
        }
        catch
        {
            // Counted as the 500 Kestrel will answer, under no model's name.
            admission.Counted = null;
            if (!ctx.Response.HasStarted)
            {
                ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }

            throw;
        }
        finally
        {
            admission.End(ctx, services.Bodies, services.Unanswered, services.Engine.IsStopping);
        }
    }

    /// <summary>The singletons the route uses, resolved once.</summary>
    private sealed record Services(InferenceEngine Engine, long MaxRequestBodyBytes, RateLimits RateLimits, AccessOptions Access, ILogger ClientFaults, BodyBudget Bodies, Unanswered Unanswered, FeatureJoiner? Joiner, ModelGateway Gateway);
}
