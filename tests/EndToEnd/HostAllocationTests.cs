using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// What the whole server allocates per inference request through Kestrel at steady state, counted
/// over every thread of the process (GC.GetTotalAllocatedBytes, precise): one idle in-process
/// server, a client that allocates nothing (one socket, request bytes built once, a reused receive
/// buffer, on a thread of its own), a warm-up, then several windows of requests. The request's own
/// allocation is the same in every window; timers and the runtime's background work are not, so a
/// window's figure is the request's plus noise, and the smallest window is the one that says it.
/// What the process allocates idle, per second, is taken off each window by its length first: after
/// the parallel tests, things they leave running (and this server's timers) allocate at a steady
/// rate, which on a slow host spread over a window's fewer requests came to 200–300 B per request.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class HostAllocationTests(ITestOutputHelper output)

{
    private const int WarmUp = 3000;
    private const int PerWindow = 4000;
    private const int Windows = 5;

    /// <summary>
    /// Today's level, with room for noise, so that a change that adds an object per request fails:
    /// ctr-ranker batch 1 measured 208 B (MessagePack), 329 B (binary) and 211 B (JSON) per request,
    /// the least of 5 windows; the candidate ranker called with ids, its rows in the near cache,
    /// 176–188 B, and as much (176 B) with its user ids as STRING (a BYTES input of MessagePack str).
    /// With other builds and tests on the two cores the least window rose to 258 B (JSON): a request
    /// then now and then completes after its handler returned, which boxes the handler's state
    /// machine; the room above today's level is for that. What is left is ASP.NET Core's, not this server's: Kestrel's message body object for a
    /// body with a Content-Length (about 125 B), the request's Items, which ASP.NET Core's request-duration
    /// metric reads (about 80 B); binary adds about 120 B of strings, the Inference-Header-Content-Length
    /// values (sampled by type, perf/AllocationSampler). The goal of 16 B for MessagePack and binary is therefore out of
    /// reach through Kestrel's HTTP/1.1 (docs/performance.md#host-request-path).
    /// </summary>
    [Theory]
    [InlineData("msgpack", 300)]
    [InlineData("binary", 420)]
    [InlineData("json", 300)]
    [InlineData("msgpack-joined", 300)]
    [InlineData("msgpack-joined-string", 300)]
    public async Task A_request_allocates_no_more_than_todays_level(string encoding, double budgetBytes)
    {
        double perRequest = await MeasureAsync(encoding);
        Assert.True(perRequest <= budgetBytes, $"{encoding}: {perRequest:F1} B per request (budget {budgetBytes} B)");
    }

    private async Task<double> MeasureAsync(string encoding)
    {
        // Joined: the candidate ranker called with ids, its rows in the near cache (a feature join that
        // allocates nothing adds nothing here); with STRING user ids, over a repository that has them.
        bool joined = encoding.StartsWith("msgpack-joined", StringComparison.Ordinal);
        bool strings = encoding == "msgpack-joined-string";
        using var models = new TempRepository();
        using var stringRepository = strings ? Join.StringIds.Repository() : null;
        Join.JoinedServerFixture.AddRanker(models);
        var (app, address) = joined
            ? await ServerFixture.StartAsync(models.Root, ["--feature-repository", stringRepository?.Root ?? Features.TempFeatureRepository.Example])
            : await ServerFixture.StartAsync(RepoPaths.Models);
        try
        {
            using (var client = new HttpClient { BaseAddress = address })
            {
                await ServerFixture.WaitReadyAsync(client);
                var pushes = strings ? Join.StringIds.PushBodies(JoinedGolden.Load(), DateTimeOffset.UtcNow) : Join.JoinedServerFixture.PushBodies(JoinedGolden.Load(), DateTimeOffset.UtcNow);
                foreach (var push in joined ? pushes : [])
                {
                    using var pushed = await client.PostAsync("/push", new StringContent(push.ToJsonString(), Encoding.UTF8, "application/json"));
                    Assert.True(pushed.IsSuccessStatusCode);
                }
            }

            byte[] request = RequestBytes(encoding, address);
            double best = double.MaxValue, idlePerSecond = 0;
            var windows = new List<double>();
            var thread = new Thread(() =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Connect(address.Host, address.Port);
                var buffer = new byte[64 * 1024];
                for (int i = 0; i < WarmUp; i++)
                {
                    RoundTrip(socket, request, buffer);
                }

                // What the process allocates with no request in flight (this server's timers, and what
                // earlier tests left running), per second: taken off each window by its length.
                idlePerSecond = IdleAllocationRate();
                for (int w = 0; w < Windows; w++)
                {
                    long started = Stopwatch.GetTimestamp();
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    for (int i = 0; i < PerWindow; i++)
                    {
                        RoundTrip(socket, request, buffer);
                    }

                    long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
                    double background = idlePerSecond * Stopwatch.GetElapsedTime(started).TotalSeconds;
                    double per = Math.Max(0, allocated - background) / PerWindow;
                    windows.Add(per);
                    best = Math.Min(best, per);
                }
            });
            thread.Start();
            await Task.Run(thread.Join);
            output.WriteLine($"{encoding}: {best:F1} B per request at the least, windows {string.Join(", ", windows.Select(x => x.ToString("F1")))}; idle, {idlePerSecond / 1024:F1} KiB/s taken off");
            return best;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// The process's allocation rate with no request in flight, over one second (the period of the
    /// runtime's and the server's timers). The least of two such seconds: a collection or a timer that
    /// falls in one alone would otherwise be taken off requests that did not cause it either.
    /// </summary>
    private static double IdleAllocationRate()
    {
        double least = double.MaxValue;
        for (int i = 0; i < 2; i++)
        {
            long started = Stopwatch.GetTimestamp();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            Thread.Sleep(1000);
            least = Math.Min(least, (GC.GetTotalAllocatedBytes(precise: true) - before) / Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return least;
    }

    /// <summary>Sends one request and reads its whole answer (headers, then Content-Length bytes); allocates nothing.</summary>
    private static void RoundTrip(Socket socket, byte[] request, byte[] buffer)
    {
        socket.Send(request);
        int have = 0, headerEnd = -1, total = int.MaxValue;
        while (have < total)
        {
            int n = socket.Receive(buffer.AsSpan(have));
            if (n == 0)
            {
                throw new InvalidOperationException("the server closed the connection");
            }

            have += n;
            if (headerEnd < 0)
            {
                headerEnd = buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8);
                if (headerEnd >= 0)
                {
                    Assert.True(buffer.AsSpan(0, have).StartsWith("HTTP/1.1 200"u8), "the answer is a 200");
                    total = headerEnd + 4 + ContentLength(buffer.AsSpan(0, headerEnd));
                }
            }
        }
    }

    private static int ContentLength(ReadOnlySpan<byte> headers)
    {
        int at = headers.IndexOf("Content-Length: "u8);
        Assert.True(at >= 0, "the answer has a Content-Length");
        int value = 0;
        for (int i = at + "Content-Length: ".Length; i < headers.Length && headers[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            value = (value * 10) + (headers[i] - '0');
        }

        return value;
    }

    private static byte[] RequestBytes(string encoding, Uri address)
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        byte[] body;
        string contentType, extra = string.Empty, model = "ctr-ranker";
        switch (encoding)
        {
            case "msgpack-joined":
                // Two candidate items for a user, every row pushed: no statuses to report.
                body = new InferDoc(null, [
                    new TensorDoc("user_id", "INT64", [2, 1], [1001, 1001]),
                    new TensorDoc("item_id", "INT64", [2, 1], [1, 2]),
                    new TensorDoc("context", "FP32", [2, 2], [0.5, -0.5, 0.25, 1])]).ToMsgPack();
                contentType = Wire.MsgPack;
                model = JoinedGolden.Model;
                break;
            case "msgpack-joined-string":
                // The same rows, the user's id a string (MessagePack str elements of a BYTES input).
                body = Join.StringIds.MsgPack(
                    new InferDoc(null, [new TensorDoc("item_id", "INT64", [2, 1], [1, 2]), new TensorDoc("context", "FP32", [2, 2], [0.5, -0.5, 0.25, 1])]),
                    Join.StringIds.Utf8([Join.StringIds.Of(1001), Join.StringIds.Of(1001)]),
                    Join.StringIds.MsgPackForm.Strings);
                contentType = Wire.MsgPack;
                model = JoinedGolden.Model;
                break;
            case "msgpack":
                body = golden.Request.ToMsgPack();
                contentType = Wire.MsgPack;
                break;
            case "binary":
                var json = Wire.BinaryJson(golden.Request, _ => true);
                json["parameters"] = new JsonObject { ["binary_data_output"] = true };
                byte[] head = JsonSerializer.SerializeToUtf8Bytes(json);
                body = [.. head, .. Wire.BinaryTail(golden.Request, _ => true)];
                contentType = "application/octet-stream";
                extra = $"Inference-Header-Content-Length: {head.Length}\r\n";
                break;
            default:
                body = golden.Request.ToJson();
                contentType = Wire.Json;
                break;
        }

        string headers = $"POST /v2/models/{model}/infer HTTP/1.1\r\nHost: {address.Host}:{address.Port}\r\nContent-Type: {contentType}\r\n{extra}Content-Length: {body.Length}\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(headers), .. body];
    }
}
