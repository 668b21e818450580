using System.Text;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;
using MessagePack;
using Microsoft.AspNetCore.Http;

namespace LowLatency.Tests.Protocol;

/// <summary>The error writer every endpoint answers with: status, headers, body in the response's encoding, and a Content-Length equal to the body.</summary>
public sealed class ErrorResponseTests
{
    [Fact]
    public async Task A_refusal_is_written_with_its_status_headers_and_json_body()
    {
        var (ctx, sent) = Context();

        await ErrorResponse.WriteAsync(ctx, WireFormat.Json, new Refusal(StatusCodes.Status429TooManyRequests, "slow down", RetryAfter: "3"));

        Assert.Equal(429, ctx.Response.StatusCode);
        Assert.Equal("application/json", ctx.Response.ContentType);
        Assert.Equal("3", ctx.Response.Headers.RetryAfter.ToString());
        Assert.False(ctx.Response.Headers.ContainsKey("WWW-Authenticate"));
        Assert.Equal("""{"error":"slow down"}""", Encoding.UTF8.GetString(sent.ToArray()));
        Assert.Equal(sent.Length, ctx.Response.ContentLength);
    }

    [Fact]
    public async Task A_401_challenges_for_a_bearer_token_and_msgpack_errors_are_msgpack()
    {
        var (ctx, sent) = Context();

        await ErrorResponse.WriteAsync(ctx, WireFormat.MsgPack, new Refusal(StatusCodes.Status401Unauthorized, "authentication required", WwwAuthenticate: "Bearer"));

        Assert.Equal(401, ctx.Response.StatusCode);
        Assert.Equal("application/msgpack", ctx.Response.ContentType);
        Assert.Equal("Bearer", ctx.Response.Headers.WWWAuthenticate.ToString());
        Assert.False(ctx.Response.Headers.ContainsKey("Retry-After"));
        var map = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(sent.ToArray())!;
        Assert.Equal("authentication required", Assert.Single(map, kv => (string)kv.Key == "error").Value);
        Assert.Equal(sent.Length, ctx.Response.ContentLength);
    }

    [Theory]
    [InlineData(InferenceStatus.Rejected, 429)]
    [InlineData(InferenceStatus.DeadlineExceeded, 504)]
    [InlineData(InferenceStatus.BadRequest, 400)]
    [InlineData(InferenceStatus.NotFound, 404)]
    [InlineData(InferenceStatus.TooLarge, 413)]
    [InlineData(InferenceStatus.Unavailable, 503)]
    [InlineData(InferenceStatus.ModelError, 500)]
    public async Task An_engine_outcome_is_answered_with_its_http_status_and_no_header(InferenceStatus status, int http)
    {
        var (ctx, sent) = Context();

        await ErrorResponse.WriteAsync(ctx, WireFormat.Json, Refusal.Of(status, "why"));

        Assert.Equal(http, ctx.Response.StatusCode);
        Assert.False(ctx.Response.Headers.ContainsKey("Retry-After"));
        Assert.Equal("""{"error":"why"}""", Encoding.UTF8.GetString(sent.ToArray()));
    }

    private static (DefaultHttpContext Context, MemoryStream Sent) Context()
    {
        var ctx = new DefaultHttpContext();
        var sent = new MemoryStream();
        ctx.Response.Body = sent;
        return (ctx, sent);
    }
}
