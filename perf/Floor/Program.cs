using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using Inference;
using LowLatency.Floor;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// The transport floor: a minimal Kestrel endpoint at the inference route that reads the whole
// request body from the pipe and answers a precomputed response of a given size. What HTTP alone
// costs here, for side-by-side comparison with the server. With --grpc-urls, the same over HTTP/2
// as a gRPC unary ModelInfer written by hand: what Kestrel's HTTP/2 costs a call before gRPC's
// framework or the engine do anything; with --grpc-service-urls, that call through Grpc.AspNetCore
// (FloorService): what the framework adds. With --forward-to, the inference route forwards each
// request to another server and answers what it answered: the least a gateway on this stack
// (Kestrel in, SocketsHttpHandler out) pays for a remote backend.
//   floor --urls http://127.0.0.1:8001 [--response-bytes 96] [--grpc-urls http://127.0.0.1:8002]
//         [--grpc-service-urls http://127.0.0.1:8003] [--forward-to http://127.0.0.1:8000]
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
int size = builder.Configuration.GetValue("response-bytes", 96);
var response = new byte[size];
Random.Shared.NextBytes(response);
var http1 = Urls(builder.Configuration["urls"] ?? "http://127.0.0.1:5000");
var grpcRaw = Urls(builder.Configuration["grpc-urls"]);
var grpcService = Urls(builder.Configuration["grpc-service-urls"]);
if (grpcRaw.Length + grpcService.Length > 0)
{
    // HTTP/2 without TLS has no negotiation: each gRPC port speaks HTTP/2 alone, --urls HTTP/1.1.
    builder.WebHost.ConfigureKestrel(k =>
    {
        foreach (var uri in http1)
        {
            k.Listen(IPAddress.Parse(uri.Host), uri.Port, o => o.Protocols = HttpProtocols.Http1);
        }

        foreach (var uri in grpcRaw.Concat(grpcService))
        {
            k.Listen(IPAddress.Parse(uri.Host), uri.Port, o => o.Protocols = HttpProtocols.Http2);
        }
    });
}

if (grpcService.Length > 0)
{
    builder.Services.AddGrpc();
    builder.Services.AddSingleton(new FloorService(ModelInferResponse.Parser.ParseFrom(ModelInferResponseBytes())));
}

var app = builder.Build();
if (builder.Configuration["forward-to"] is { } forwardTo)
{
    var backend = new Uri(forwardTo);
    var http = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None });
    app.MapPost("/v2/models/{name}/infer", async (HttpContext ctx, string name) =>
    {
        var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(backend, "/v2/models/" + name + "/infer"))
        {
            Content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", ctx.Request.ContentType);
        using var answer = await http.SendAsync(request, ctx.RequestAborted);
        byte[] bytes = await answer.Content.ReadAsByteArrayAsync(ctx.RequestAborted);
        ctx.Response.StatusCode = (int)answer.StatusCode;
        ctx.Response.ContentType = answer.Content.Headers.ContentType?.ToString();
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes);
    });
}
else
{
    app.MapPost("/v2/models/{name}/infer", async (HttpContext ctx) =>
    {
        await ReadAllAsync(ctx.Request.BodyReader);
        ctx.Response.ContentType = "application/msgpack";
        ctx.Response.ContentLength = response.Length;
        await ctx.Response.Body.WriteAsync(response);
    });
}

// A gRPC unary call's answer as Grpc.AspNetCore writes one: headers, one length-prefixed message
// (a ModelInferResponse for ctr-ranker's one FP32 output, so a real client can decode it), trailers.
var grpcAnswer = GrpcMessage(ModelInferResponseBytes());
if (grpcRaw.Length > 0)
{
    app.MapPost("/inference.GRPCInferenceService/ModelInfer", async (HttpContext ctx) =>
    {
        await ReadAllAsync(ctx.Request.BodyReader);
        ctx.Response.ContentType = "application/grpc";
        await ctx.Response.Body.WriteAsync(grpcAnswer);
        ctx.Response.AppendTrailer("grpc-status", "0");
    }).RequireHost([.. grpcRaw.Select(u => "*:" + u.Port)]);
}

if (grpcService.Length > 0)
{
    app.MapGrpcService<FloorService>().RequireHost([.. grpcService.Select(u => "*:" + u.Port)]);
}

app.Run();

static Uri[] Urls(string? list) => list is null ? [] : [.. list.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(u => new Uri(u))];

static async Task ReadAllAsync(PipeReader reader)
{
    while (true)
    {
        var result = await reader.ReadAsync();
        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            break;
        }
    }
}

static byte[] GrpcMessage(byte[] message)
{
    var framed = new byte[5 + message.Length];
    BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
    message.CopyTo(framed, 5);
    return framed;
}

// model_name (1) "ctr-ranker", model_version (2) "1", outputs (5) { name (1) "probability",
// datatype (2) "FP32", shape (3) packed [1, 1] }, raw_output_contents (6) four bytes.
static byte[] ModelInferResponseBytes()
{
    var output = new List<byte>();
    Field(output, 1, "probability"u8);
    Field(output, 2, "FP32"u8);
    Field(output, 3, [1, 1]);
    var message = new List<byte>();
    Field(message, 1, "ctr-ranker"u8);
    Field(message, 2, "1"u8);
    Field(message, 5, [.. output]);
    Field(message, 6, BitConverter.GetBytes(0.5f));
    return [.. message];
}

static void Field(List<byte> to, int number, ReadOnlySpan<byte> bytes)
{
    to.Add((byte)((number << 3) | 2));
    to.Add((byte)bytes.Length);
    to.AddRange(bytes);
}
