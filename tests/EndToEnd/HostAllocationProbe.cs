using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// What the whole server allocates per inference request through Kestrel at steady state, counted
/// over every thread of the process (GC.GetTotalAllocatedBytes, precise): one idle in-process
/// server, a client that allocates nothing (one socket, request bytes built once, a reused receive
/// buffer, on a thread of its own), a warm-up, then several windows of requests. The request's own
/// allocation is the same in every window; timers and the runtime's background work are not, so a
/// window's figure is the request's plus noise, and the smallest window is the one that says it.
/// It runs in a process of its own (<see cref="ChildProcessEntry"/>): in the test process, what
/// earlier tests left running (servers' timers, clients reconnecting) allocated on every thread and
/// came to 200-300 B a request on a slow host, more than the figure measured.
/// </summary>
internal static class HostAllocationProbe
{
    private const int WarmUp = 3000;
    private const int PerWindow = 4000;
    private const int Windows = 5;

    /// <summary>The least window's bytes per request, every window's, and the idle rate taken off them (B/s).</summary>
    public sealed record Result(double PerRequest, IReadOnlyList<double> Windows, double IdlePerSecond);

    public static async Task<Result> MeasureAsync(string encoding)
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

                // What the process allocates with no request in flight (this server's timers), per
                // second: taken off each window by its length.
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
            return new Result(best, windows, idlePerSecond);
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
