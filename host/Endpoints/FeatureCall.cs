using System.Buffers;
using System.IO.Pipelines;
using LowLatency.Engine.Config;
using LowLatency.Engine.Serving;
using LowLatency.Features.Serving;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Memory;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// One request to a feature-server route, from its checks to its answer: the encodings, the scope,
/// the body's place in the body budget and the body itself, read whole from Kestrel's pipe and given
/// back (with the budget) when the call is disposed. <see cref="BeginAsync"/> answers a refused request
/// itself and returns null.
/// </summary>
internal sealed class FeatureCall : IAsyncDisposable
{
    private readonly HttpContext _ctx;
    private readonly Services _services;
    private long _reservation;
    private ReadOnlySequence<byte> _body;
    private bool _holdsBody;

    private FeatureCall(HttpContext ctx, Services services, FeatureServer server, WireFormat requestFormat, WireFormat responseFormat)
    {
        (_ctx, _services, Server, RequestFormat, ResponseFormat) = (ctx, services, server, requestFormat, responseFormat);
    }

    public FeatureServer Server { get; }

    public WireFormat RequestFormat { get; }

    public WireFormat ResponseFormat { get; }

    /// <summary>The whole body; valid until the call is disposed (a JSON document may read it in place).</summary>
    public ReadOnlySequence<byte> Body => _body;

    public static async Task<FeatureCall?> BeginAsync(HttpContext ctx, Services services, string scope)
    {
        var request = ctx.Request;
        var responseFormat = WireFormat.Json;
        Refusal? refusal;
        if (!WireFormats.TryFromFeatureContentType(request.ContentType, out var requestFormat))
        {
            refusal = new Refusal(StatusCodes.Status415UnsupportedMediaType, $"unsupported Content-Type {ClientText.Quoted(request.ContentType)}; use {WireFormats.JsonType} or {WireFormats.MsgPackType}");
        }
        else
        {
            responseFormat = WireFormats.FromAccept(request.Headers.Accept, requestFormat);
            refusal = WireFormats.ForeignCharset(request.ContentType) is { } charset
                ? new Refusal(StatusCodes.Status415UnsupportedMediaType, $"Content-Type charset {ClientText.Quoted(charset)} is not supported: send the body in UTF-8")
                : await Access.FeaturesAsync(ctx, services.Access, scope);
            if (refusal is null && services.RateLimits.Enabled)
            {
                refusal = services.RateLimits.AcquireClient(Access.ClientOf(ctx));
            }
        }

        if (refusal is null && services.Store is null)
        {
            // Where Feast's server would be, a client learns why nothing answers, and what to set.
            refusal = new Refusal(StatusCodes.Status404NotFound, "this server has no feature store: start it with --feature-repository PATH (LowLatency:FeatureRepository)");
        }

        if (refusal is not null)
        {
            await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
            return null;
        }

        var call = new FeatureCall(ctx, services, services.Store!.Server, requestFormat, responseFormat);
        try
        {
            refusal = call.Admit() ?? await call.ReadBodyAsync();
        }
        catch (Exception e) when (ClientFault.Is(e))
        {
            refusal = call.Fault(e);
        }

        if (refusal is null && call._holdsBody)
        {
            return call;
        }

        await using (call)
        {
            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
            }
        }

        return null;
    }

    /// <summary>Answers <paramref name="answer"/> with a Content-Length, in the response's encoding.</summary>
    public Task AnswerAsync<T>(T answer, Action<IBufferWriter<byte>, WireFormat, T> write)
    {
        _ctx.Response.ContentType = WireFormats.ContentType(ResponseFormat);
        var buffer = ResponseBuffer.ForThisThread();
        write(buffer, ResponseFormat, answer);
        ResponseBuffer.Send(_ctx.Response, buffer);
        return _ctx.Response.BodyWriter.FlushAsync(_ctx.RequestAborted).AsTask();
    }

    /// <summary>
    /// Whether the route answers <paramref name="e"/> (<see cref="FailAsync"/>): a refusal of the feature
    /// server or the decoders, or the client's doing. Anything else is the server's error.
    /// </summary>
    public static bool Handles(Exception e) => e is FeatureServerException || ClientFault.Is(e);

    public Task FailAsync(Exception e)
    {
        if (e is FeatureServerException refused)
        {
            return ErrorResponse.WriteAsync(_ctx, ResponseFormat, new Refusal(StatusOf(refused.Kind), refused.Message, RetryAfter: refused.Kind == FeatureErrorKind.Unavailable ? "1" : null));
        }

        return Fault(e) is { } answer && !_ctx.Response.HasStarted ? ErrorResponse.WriteAsync(_ctx, ResponseFormat, answer) : Task.CompletedTask;
    }

    /// <summary>The status Feast's feature server answers each kind of refusal with.</summary>
    public static int StatusOf(FeatureErrorKind kind) => kind switch
    {
        FeatureErrorKind.NotFound => StatusCodes.Status404NotFound,
        FeatureErrorKind.UnknownPushSource => StatusCodes.Status422UnprocessableEntity,
        FeatureErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };

    public ValueTask DisposeAsync()
    {
        if (_holdsBody)
        {
            _holdsBody = false;
            _ctx.Request.BodyReader.AdvanceTo(_body.End);
        }

        if (_reservation != 0)
        {
            _services.Bodies.Release(_reservation);
            _reservation = 0;
            _services.Unanswered.CountIfCut(_ctx, _services.Engine.IsStopping);
        }

        return default;
    }

    /// <summary>The declared length against the limit, then the body's place in the body budget.</summary>
    private Refusal? Admit()
    {
        long limit = _services.MaxRequestBodyBytes;
        if (_ctx.Request.ContentLength > limit)
        {
            return InferenceEndpoint.TooLarge(_ctx.Request.ContentLength.Value, limit);
        }

        long bytes = _ctx.Request.ContentLength ?? InferenceEndpoint.UnknownLength(_ctx, limit);
        return _services.Bodies.TryReserve(bytes, out _reservation) ? null : InferenceEndpoint.BudgetFull(bytes, _services.Bodies.Limit);
    }

    /// <summary>The whole body, or enough of it to know it is too large (then given back at once).</summary>
    private async ValueTask<Refusal?> ReadBodyAsync()
    {
        var reader = _ctx.Request.BodyReader;
        long limit = _services.MaxRequestBodyBytes;
        ReadResult read;
        do
        {
            read = await reader.ReadAsync(_ctx.RequestAborted);
        }
        while (!InferenceEndpoint.ReadEnough(reader, read, limit));

        if (read.Buffer.Length > limit)
        {
            var refusal = InferenceEndpoint.TooLarge(read.Buffer.Length, limit);
            reader.AdvanceTo(read.Buffer.End);
            return refusal;
        }

        (_body, _holdsBody) = (read.Buffer, true);
        return null;
    }

    /// <summary>A client that failed its request (<see cref="ClientFault"/>), logged as such; null when it is gone (counted as 499).</summary>
    private Refusal? Fault(Exception e)
    {
        var answer = ClientFault.Answer(_ctx, e);
        ClientFaultLog.Write(_services.ClientFaults, "features", answer?.StatusCode ?? StatusCodes.Status499ClientClosedRequest, answer?.Message ?? ClientFault.Gone(e));
        return answer;
    }

    /// <summary>The singletons the routes use, resolved once; <see cref="Store"/> is null when no feature repository is configured.</summary>
    internal sealed record Services(FeatureStore? Store, InferenceEngine Engine, long MaxRequestBodyBytes, AccessOptions Access, RateLimits RateLimits, ILogger ClientFaults, BodyBudget Bodies, Unanswered Unanswered);
}
