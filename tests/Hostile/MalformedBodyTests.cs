using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using LowLatency.Tests.Infrastructure;
using MessagePack;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Bodies that cannot be read (malformed chunking, an overflowing chunk size, truncated bodies,
/// lying Content-Length, clients that go away or send too slowly) are the client's fault: answered
/// with a 4xx and the error body in the response's encoding where an answer can still be sent,
/// counted under that code (499 when the client went away), never logged as an error. They were
/// answered 500 (an overflowing chunk size), counted as 200 under "unknown", and each wrote an
/// Error-level line with a stack trace: any client could flood the logs.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed partial class MalformedBodyTests
{
    private const string Infer = "/v2/models/ctr-ranker/infer";

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/msgpack")]
    public async Task An_overflowing_chunk_size_gets_400_with_the_error_body_in_the_responses_encoding(string type)
    {
        await using var server = await StartAsync();
        long rss = server.ResidentBytes();

        for (int i = 0; i < 50; i++)
        {
            var answer = RawAnswer.Parse(await server.SendRawAsync(Chunked(type, "ffffffffffffffffff\r\n"), TimeSpan.FromSeconds(10)));

            Assert.Equal(400, answer.Status);
            Assert.Equal(type, answer.ContentType);
            Assert.Equal(answer.Body.Length, answer.ContentLength);
            Assert.Contains("the request body could not be read", Wire.ErrorOf(answer.Body, type), StringComparison.Ordinal);
        }

        Assert.True(await server.IsReadyAsync());
        AssertNoErrorLine(server.Log);
        // Fifty refused requests keep nothing: 512 MiB above the reading before is room for the GC's
        // slack on a shared machine.
        Assert.True(server.ResidentBytes() - rss < (512L << 20));
    }

    [Fact]
    public async Task Malformed_truncated_and_abandoned_bodies_are_counted_under_their_own_codes_and_not_logged_as_errors()
    {
        await using var server = await StartAsync();
        long rss = server.ResidentBytes();
        string body = Encoding.UTF8.GetString(GoldenCase.Load("ctr-ranker", "batch1").Request.ToJson());
        int sent = 0;
        for (int i = 0; i < 20; i++)
        {
            // Malformed chunking on a connection that stays open: answered 400, with the error body.
            foreach (var chunks in new[] { "ffffffffffffffffff\r\n", "zz\r\n", "-1\r\n", "5\r\n{}{}{}xx" })
            {
                var answer = RawAnswer.Parse(await server.SendRawAsync(Chunked(Wire.Json, chunks), TimeSpan.FromSeconds(10)));
                Assert.Equal(400, answer.Status);
                Assert.Equal("close", answer.Headers.GetValueOrDefault("Connection"));
                Assert.Contains("the request body could not be read", Wire.ErrorOf(answer.Body, Wire.Json), StringComparison.Ordinal);
                sent++;
            }

            // Bodies cut short (a truncated chunk, a lying Content-Length), then a FIN, and clients
            // that reset their connection: Kestrel aborts the request, so nothing, or at most the 400,
            // reaches the client.
            foreach (var (request, end) in new[]
            {
                (Chunked(Wire.Json, "1000\r\n" + body[..100]), RawEnd.HalfClose),
                (WithLength(Wire.Json, body.Length + 100, body), RawEnd.HalfClose),
                (WithLength(Wire.Json, body.Length + 100, body), RawEnd.Reset),
            })
            {
                Assert.Contains(HostileServer.StatusOf(await server.SendRawAsync(request, TimeSpan.FromSeconds(10), end)), new[] { 0, 400 });
                sent++;
            }
        }

        Assert.True(await server.IsReadyAsync());
        string metrics = await PollAsync(server, m => Count(m, "400", "ctr-ranker") + Count(m, "499", "ctr-ranker") >= sent);
        Assert.Equal(sent, Count(metrics, "400", "ctr-ranker") + Count(metrics, "499", "ctr-ranker"));
        Assert.True(Count(metrics, "499", "ctr-ranker") >= 20, "the resets are counted as 499");
        Assert.Equal(0, Count(metrics, "200", "unknown"));
        Assert.Equal(0, Count(metrics, "200", "ctr-ranker"));
        AssertNoErrorLine(server.Log);
        // Nothing of a refused body is kept: 512 MiB above the reading before is room for the GC's
        // slack on a shared machine.
        Assert.True(server.ResidentBytes() - rss < (512L << 20));
    }

    [Theory]
    [InlineData("POST", "/v2/repository/index")]
    [InlineData("PUT", "/v2/repository/models/ctr-ranker/traffic")]
    public async Task The_repository_routes_answer_bodies_they_cannot_read_as_client_errors(string method, string path)
    {
        await using var server = await StartAsync();
        long rss = server.ResidentBytes();
        foreach (var (chunks, status) in new[] { ("ffffffffffffffffff\r\n", 400), ("zz\r\n", 400), ($"{2 << 20:x}\r\n{new string(' ', 2 << 20)}\r\n0\r\n\r\n", 413) })
        {
            byte[] request = Encoding.Latin1.GetBytes($"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}");
            var answer = RawAnswer.Parse(await server.SendRawAsync(request, TimeSpan.FromSeconds(10)));
            Assert.Equal(status, answer.Status);
            Assert.Contains("the request body could not be read", Wire.ErrorOf(answer.Body, Wire.Json), StringComparison.Ordinal);
        }

        Assert.True(await server.IsReadyAsync());
        AssertNoErrorLine(server.Log);
        // At most the route's 1 MiB was buffered: 512 MiB above the reading before is room for the
        // GC's slack on a shared machine.
        Assert.True(server.ResidentBytes() - rss < (512L << 20));
    }

    [Fact]
    public async Task A_body_that_arrives_too_slowly_gets_408_counted_as_408()
    {
        await using var server = await StartAsync();
        string body = Encoding.UTF8.GetString(GoldenCase.Load("ctr-ranker", "batch1").Request.ToJson());

        // Kestrel's minimum body data rate (240 B/s after a 5 s grace period) ends this one.
        var answer = RawAnswer.Parse(await server.SendRawAsync(WithLength(Wire.Json, body.Length, body[..10]), TimeSpan.FromSeconds(30)));

        Assert.Equal(408, answer.Status);
        Assert.Contains("the request body could not be read", Wire.ErrorOf(answer.Body, Wire.Json), StringComparison.Ordinal);
        string metrics = await PollAsync(server, m => Count(m, "408", "ctr-ranker") >= 1);
        Assert.Equal(1, Count(metrics, "408", "ctr-ranker"));
        Assert.Equal(0, Count(metrics, "200", "unknown"));
        AssertNoErrorLine(server.Log);
    }

    [Fact]
    public async Task Client_faults_are_logged_at_Debug_at_most_one_line_a_second()
    {
        await using var server = await HostileServer.StartAsync(
            ["--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker", "--Logging:LogLevel:LowLatency.Host.ClientFaults=Debug"]);
        var started = DateTime.UtcNow;
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(400, HostileServer.StatusOf(await server.SendRawAsync(Chunked(Wire.Json, "zz\r\n"), TimeSpan.FromSeconds(10))));
        }

        double seconds = (DateTime.UtcNow - started).TotalSeconds;
        await Task.Delay(500);
        int lines = Regex.Count(server.Log, @"dbug: LowLatency\.Host\.ClientFaults\[");
        Assert.InRange(lines, 1, (int)Math.Ceiling(seconds) + 1);
        Assert.Contains("400", server.Log, StringComparison.Ordinal);
        AssertNoErrorLine(server.Log);
    }

    private static Task<HostileServer> StartAsync() =>
        HostileServer.StartAsync(["--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker"]);

    private static byte[] Chunked(string type, string chunks) =>
        Encoding.Latin1.GetBytes($"POST {Infer} HTTP/1.1\r\nHost: x\r\nContent-Type: {type}\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}");

    private static byte[] WithLength(string type, int length, string body) =>
        Encoding.Latin1.GetBytes($"POST {Infer} HTTP/1.1\r\nHost: x\r\nContent-Type: {type}\r\nContent-Length: {length}\r\n\r\n{body}");

    private static long Count(string metrics, string code, string model) =>
        (long)PrometheusText.Value(metrics, "lowlatency_host_responses", model, $"code=\"{code}\"", version: false);

    /// <summary>/metrics once <paramref name="done"/> holds of it (a response is counted after it is sent), or after 10 s.</summary>
    private static async Task<string> PollAsync(HostileServer server, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            string text = await server.Client.GetStringAsync("/metrics");
            if (done(text) || DateTime.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>No error line in the log; one that is there is quoted whole with the 30 lines after it (its message and exception).</summary>
    private static void AssertNoErrorLine(string log)
    {
        var match = ErrorLine().Match(log);
        if (match.Success)
        {
            int end = match.Index;
            for (int line = 0; line < 31 && end >= 0 && end < log.Length; line++)
            {
                end = log.IndexOf('\n', end + 1);
            }

            Assert.Fail("the server logged: " + log[match.Index..(end < 0 ? log.Length : end)]);
        }
    }

    // A Warning-, Error- or Critical-level line of the console log, or an exception's trace. Not
    // Kestrel's heartbeat warning (event 22): it says the host starved the thread pool for a second,
    // which a shared machine under a full test run does, not that a body was mishandled.
    [GeneratedRegex(@"^(warn|fail|crit): (?!Microsoft\.AspNetCore\.Server\.Kestrel\[22\])|An unhandled exception", RegexOptions.Multiline)]
    private static partial Regex ErrorLine();
}
