using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LowLatency.Client.Wire;

namespace LowLatency.Client.Http;

/// <summary>
/// The REST transport: one <see cref="SocketsHttpHandler"/> pool behind an
/// <see cref="HttpMessageInvoker"/> (HttpClient's base, without its per-request timeout and linked
/// cancellation source: the client keeps the deadline). Each call's body is encoded once into a
/// pooled buffer; each answer is read into another and decoded in place.
/// </summary>
internal sealed class HttpTransport : ClientTransport
{
    public const string JsonLengthHeader = "Inference-Header-Content-Length";

    private static readonly MediaTypeHeaderValue MsgPackType = new("application/msgpack");
    private static readonly MediaTypeHeaderValue OctetStreamType = new("application/octet-stream");

    /// <summary>The most of an error answer's body read for its message.</summary>
    private const int MaxErrorBytes = 64 * 1024;

    private readonly HttpMessageInvoker _http;
    private readonly Uri _base;
    private readonly HttpBodyEncoding _encoding;
    private readonly Version _version;
    private readonly HttpVersionPolicy _versionPolicy;
    private readonly Func<Credentials> _credentials;
    private readonly ConcurrentDictionary<(string Model, string? Version), Uri> _inferUris = new();

    public HttpTransport(InferenceClientOptions options, Func<Credentials> credentials)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.MaxConnectionsPerServer,
            UseProxy = options.UseProxy,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = options.PooledConnectionLifetime,
            EnableMultipleHttp2Connections = true,
        };
        options.ConfigureHandler?.Invoke(handler);
        _http = new HttpMessageInvoker(handler, disposeHandler: true);
        _base = options.Address.AbsoluteUri.EndsWith('/') ? options.Address : new Uri(options.Address.AbsoluteUri + "/");
        _encoding = options.HttpEncoding;
        _version = options.HttpVersion;
        // HTTP/2 over cleartext has no negotiation: asked for "or lower", HttpClient would quietly speak 1.1.
        _versionPolicy = _version.Major >= 2 && _base.Scheme == Uri.UriSchemeHttp ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower;
        _credentials = credentials;
    }

    public override bool NeedsLocalTimer => true;

    public override IDisposable Begin(InferCall call)
    {
        bool msgpack = _encoding == HttpBodyEncoding.MessagePack;
        int bound = msgpack ? MsgPackRequestEncoder.UpperBound(call) : JsonBinaryRequestEncoder.UpperBound(call);
        var buffer = ArrayPool<byte>.Shared.Rent(bound);
        try
        {
            int jsonLength = -1;
            int timeoutOffset;
            int length = msgpack
                ? MsgPackRequestEncoder.Encode(call, buffer, out timeoutOffset)
                : JsonBinaryRequestEncoder.Encode(call, buffer, out jsonLength, out timeoutOffset);
            return new EncodedBody(buffer, length, jsonLength, timeoutOffset);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public override async Task<InferResult> AttemptAsync(InferCall call, IDisposable? prepared, CancellationToken token)
    {
        var body = (EncodedBody)prepared!;
        if (body.TimeoutOffset >= 0)
        {
            // The server is told the time left now, not when the body was first encoded.
            long left = call.ServerTimeoutMicroseconds();
            if (body.JsonLength < 0)
            {
                MsgPackRequestEncoder.PatchTimeout(body.Span, body.TimeoutOffset, left);
            }
            else
            {
                JsonBinaryRequestEncoder.PatchTimeout(body.Span, body.TimeoutOffset, left);
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, InferUri(call))
        {
            Version = _version,
            VersionPolicy = _versionPolicy,
            Content = new BodyContent(body, body.JsonLength < 0 ? MsgPackType : OctetStreamType),
        };
        _credentials().Add(request.Headers);
        if (call.Options.RoutingKey is { } key)
        {
            request.Headers.TryAddWithoutValidation("X-Routing-Key", key);
        }

        HttpResponseMessage sent;
        try
        {
            sent = await _http.SendAsync(request, token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }

        using var response = sent;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await ErrorAsync(response, token).ConfigureAwait(false);
        }

        var (buffer, length) = await ReadBodyAsync(response, token).ConfigureAwait(false);
        var result = new InferResult(buffer);
        try
        {
            result.ServerTiming = ServerTimingOf(response);
            if (MediaType(response.Content.Headers)?.Contains("msgpack", StringComparison.OrdinalIgnoreCase) == true)
            {
                MsgPackResponseDecoder.Decode(result, length);
            }
            else
            {
                JsonBinaryResponseDecoder.Decode(result, length, JsonLengthOf(response) ?? length);
            }

            return result;
        }
        catch (MalformedAnswerException e)
        {
            result.Dispose();
            throw new InferenceException(InferenceStatus.Internal, "the server's answer could not be read: " + e.Message, e) { HttpStatus = response.StatusCode };
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a body encoded elsewhere to <c>/v2/models/{model}[/versions/{version}]/infer</c> and
    /// returns the answer undecoded, whatever its status; only a failure to reach the server throws.
    /// </summary>
    public async Task<ForwardedAnswer> ForwardAsync(Uri inferUri, ReadOnlySequence<byte> body, BodyLease? lease, string contentType, string? jsonLength, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, inferUri)
        {
            Version = _version,
            VersionPolicy = _versionPolicy,
            Content = new SequenceContent(body, lease, contentType, jsonLength),
        };
        _credentials().Add(request.Headers);
        for (int i = 0; i < headers.Count; i++)
        {
            request.Headers.TryAddWithoutValidation(headers[i].Key, headers[i].Value);
        }

        HttpResponseMessage sent;
        try
        {
            sent = await _http.SendAsync(request, token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }

        using var response = sent;
        var (buffer, length) = await ReadBodyAsync(response, token).ConfigureAwait(false);
        string? retryAfter = response.Headers.NonValidated.TryGetValues("Retry-After", out var r) ? r.ToString() : null;
        string? json = response.Headers.NonValidated.TryGetValues(JsonLengthHeader, out var j) || response.Content.Headers.NonValidated.TryGetValues(JsonLengthHeader, out j) ? j.ToString() : null;
        return new ForwardedAnswer((int)response.StatusCode, MediaType(response.Content.Headers), json, retryAfter, buffer, length);
    }

    /// <summary>The infer URI of a model (and version) on this server.</summary>
    public Uri InferUriOf(string model, string? version) => new(_base, ModelPath(model, version) + "/infer");

    public override Task<bool> LiveAsync(CancellationToken token) => ProbeAsync("v2/health/live", token);

    public override Task<bool> ReadyAsync(CancellationToken token) => ProbeAsync("v2/health/ready", token);

    public override Task<bool> ModelReadyAsync(string model, string? version, CancellationToken token) => ProbeAsync(ModelPath(model, version) + "/ready", token);

    public override async Task<ModelMetadata> ModelMetadataAsync(string model, string? version, CancellationToken token)
    {
        using var doc = await GetJsonAsync(ModelPath(model, version), token).ConfigureAwait(false);
        var root = doc.RootElement;
        return new ModelMetadata(
            root.GetProperty("name").GetString()!,
            root.TryGetProperty("versions", out var versions) ? [.. versions.EnumerateArray().Select(v => v.GetString()!)] : [],
            root.TryGetProperty("platform", out var platform) ? platform.GetString() ?? string.Empty : string.Empty,
            Tensors(root, "inputs"),
            Tensors(root, "outputs"));
    }

    public override async Task<ServerMetadata> ServerMetadataAsync(CancellationToken token)
    {
        using var doc = await GetJsonAsync("v2", token).ConfigureAwait(false);
        var root = doc.RootElement;
        return new ServerMetadata(
            root.GetProperty("name").GetString()!,
            root.TryGetProperty("version", out var v) ? v.GetString() ?? string.Empty : string.Empty,
            root.TryGetProperty("extensions", out var e) ? [.. e.EnumerateArray().Select(x => x.GetString()!)] : []);
    }

    public override void Dispose() => _http.Dispose();

    private Uri InferUri(InferCall call)
    {
        var key = (call.Model, call.Options.ModelVersion);
        if (_inferUris.TryGetValue(key, out var uri))
        {
            return uri;
        }

        uri = new Uri(_base, ModelPath(call.Model, call.Options.ModelVersion) + "/infer");
        return _inferUris.Count < 4096 ? _inferUris.GetOrAdd(key, uri) : uri;
    }

    private static string ModelPath(string model, string? version) =>
        version is null ? $"v2/models/{Uri.EscapeDataString(model)}" : $"v2/models/{Uri.EscapeDataString(model)}/versions/{Uri.EscapeDataString(version)}";

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken token)
    {
        try
        {
            return await _http.SendAsync(request, token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
    }

    /// <summary>
    /// A failed send. Refused or unreachable: nothing was sent, so the request did not run. Anything
    /// else (a connection lost once the request was on its way) may have run.
    /// </summary>
    private InferenceException Unreachable(HttpRequestException e)
    {
        bool notSent = e.HttpRequestError == HttpRequestError.ConnectionError;
        return new InferenceException(
            InferenceStatus.Unavailable,
            notSent ? $"could not connect to {_base}: {e.Message}" : $"the connection to {_base} failed during the call: {e.Message}",
            e)
        { IsSafeToRetry = notSent };
    }

    /// <summary>Reads the answer's body into a pooled buffer, sized by Content-Length where the server sent one.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpResponseMessage response, CancellationToken token)
    {
        long? declared = response.Content.Headers.ContentLength;
        var buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 and <= int.MaxValue ? (int)declared.Value : 4096);
        int length = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (declared is not null)
                    {
                        // As long as declared: done, if the server sent no more than it said.
                        break;
                    }

                    var grown = ArrayPool<byte>.Shared.Rent(checked(buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = grown;
                }

                int n = await stream.ReadAsync(buffer.AsMemory(length, declared is { } d ? (int)Math.Min(d - length, buffer.Length - length) : buffer.Length - length), token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                length += n;
                if (declared is { } total && length == total)
                {
                    break;
                }
            }

            if (declared is { } expected && length != expected)
            {
                throw new InferenceException(InferenceStatus.Unavailable, $"the answer ended after {length} of its {expected} bytes");
            }

            return (buffer, length);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new InferenceException(InferenceStatus.Unavailable, "the connection failed while the answer was read: " + e.Message, e);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static async Task<InferenceException> ErrorAsync(HttpResponseMessage response, CancellationToken token)
    {
        int code = (int)response.StatusCode;
        string? message = null;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            var buffer = ArrayPool<byte>.Shared.Rent(MaxErrorBytes);
            try
            {
                int length = 0, n;
                while (length < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(length), token).ConfigureAwait(false)) > 0)
                {
                    length += n;
                }

                message = ErrorBody.Message(buffer.AsSpan(0, length), MediaType(response.Content.Headers));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // The status says enough.
        }

        // 503 and 429 are refusals before any model ran (not ready, draining, queue full, rate limit).
        return new InferenceException(StatusMap.FromHttp(code), $"HTTP {code} ({response.ReasonPhrase}): {message ?? "no message"}")
        {
            HttpStatus = response.StatusCode,
            ServerMessage = message,
            RetryAfter = RetryAfterOf(response.Headers.RetryAfter),
            IsSafeToRetry = code is 503 or 429,
        };
    }

    private async Task<bool> ProbeAsync(string path, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, path)) { Version = _version, VersionPolicy = _versionPolicy };
        _credentials().Add(request.Headers);
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(request, token).ConfigureAwait(false);
        }
        catch (InferenceException e) when (e.IsSafeToRetry)
        {
            // Nothing listens: not live, not ready.
            return false;
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw await ErrorAsync(response, token).ConfigureAwait(false);
            }

            return response.StatusCode == HttpStatusCode.OK;
        }
    }

    private async Task<JsonDocument> GetJsonAsync(string path, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, path)) { Version = _version, VersionPolicy = _versionPolicy };
        _credentials().Add(request.Headers);
        using var response = await SendAsync(request, token).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await ErrorAsync(response, token).ConfigureAwait(false);
        }

        var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
        try
        {
            return await JsonDocument.ParseAsync(stream, cancellationToken: token).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new InferenceException(InferenceStatus.Internal, $"GET /{path} answered with malformed JSON: {e.Message}", e) { HttpStatus = response.StatusCode };
        }
    }

    private static List<TensorMetadata> Tensors(JsonElement root, string property) =>
        root.TryGetProperty(property, out var list)
            ? [.. list.EnumerateArray().Select(t => new TensorMetadata(
                t.GetProperty("name").GetString()!,
                t.GetProperty("datatype").GetString()!,
                t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray()))]
            : [];

    private static ServerTiming ServerTimingOf(HttpResponseMessage response)
    {
        if (response.Headers.NonValidated.TryGetValues("Server-Timing", out var values))
        {
            foreach (string value in values)
            {
                var timing = ServerTiming.Parse(value);
                if (timing.IsPresent)
                {
                    return timing;
                }
            }
        }

        return default;
    }

    private static int? JsonLengthOf(HttpResponseMessage response)
    {
        if (response.Headers.NonValidated.TryGetValues(JsonLengthHeader, out var values) || response.Content.Headers.NonValidated.TryGetValues(JsonLengthHeader, out values))
        {
            foreach (string value in values)
            {
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1;
            }
        }

        return null;
    }

    private static string? MediaType(HttpContentHeaders headers)
    {
        if (headers.NonValidated.TryGetValues("Content-Type", out var values))
        {
            foreach (string value in values)
            {
                return value;
            }
        }

        return null;
    }

    private static TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? (date - DateTimeOffset.UtcNow) is { Ticks: > 0 } wait ? wait : TimeSpan.Zero : null);
}
