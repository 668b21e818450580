using System.Text;
using System.Text.RegularExpressions;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Clients that send half of a Content-Length body, wait until the server has read it, then stop
/// sending (FIN). The server reads a body whole by examining what came without consuming it; Kestrel
/// then ends the read that meets the FIN with "Unexpected end of request content" and leaves the
/// connection's input in a reading state. Such a connection must end with its request: begun again,
/// Kestrel's next read of that input threw "Reading is already in progress" and logged "Connection
/// processing ended abnormally" (docs/security.md, Limits on bodies and tensors). It did so only when
/// RequestAborted was cancelled after the read had met the FIN but before the client's fault was
/// answered (none is then sent): 9 to 43 of these 2,000 connections per run before the server ended
/// such connections itself, too few of 400 to fail every run.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class BodyCutShortTests
{
    private const int Attempts = 2000;
    private const int AtOnce = 16;

    [Fact]
    public async Task Bodies_cut_short_after_a_first_read_end_their_connections_counted_and_without_a_warning()
    {
        await using var server = await HostileServer.StartAsync(["--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker"]);
        string body = Encoding.UTF8.GetString(GoldenCase.Load("ctr-ranker", "batch1").Request.ToJson());
        byte[] request = Encoding.Latin1.GetBytes(
            $"POST /v2/models/ctr-ranker/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body[..(body.Length / 2)]}");
        int next = -1;
        var clients = Enumerable.Range(0, AtOnce).Select(async _ =>
        {
            int attempt;
            while ((attempt = Interlocked.Increment(ref next)) < Attempts)
            {
                // 0 to 19 ms before the FIN: from one that meets the body's first read to one that
                // meets a second read, waiting, after the first was examined.
                string answer = await server.SendRawAsync(request, TimeSpan.FromSeconds(10), RawEnd.HalfClose, TimeSpan.FromMilliseconds(attempt % 20));
                Assert.Contains(HostileServer.StatusOf(answer), new[] { 0, 400 });
            }
        });
        await Task.WhenAll(clients);

        Assert.True(await server.IsReadyAsync());
        // A response is counted after it is sent: polled until all are, or for 10 s.
        string metrics = await server.Client.GetStringAsync("/metrics");
        for (var deadline = DateTime.UtcNow.AddSeconds(10); Answered(metrics) < Attempts && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
            metrics = await server.Client.GetStringAsync("/metrics");
        }

        Assert.Equal(Attempts, Answered(metrics));
        // The first with its exception's trace.
        var warning = Regex.Match(server.Log, @"^warn: .*\n.*Connection processing ended abnormally\.(\n\s+at .*|\n\s+System\..*){1,12}", RegexOptions.Multiline);
        int warnings = Regex.Count(server.Log, "Connection processing ended abnormally");
        Assert.True(warnings == 0, $"{warnings} of {Attempts} connections ended abnormally; the first:\n{warning.Value}");
    }

    private static long Answered(string metrics) =>
        (long)PrometheusText.Value(metrics, "lowlatency_host_responses", "ctr-ranker", "code=\"400\"", version: false)
        + (long)PrometheusText.Value(metrics, "lowlatency_host_responses", "ctr-ranker", "code=\"499\"", version: false);
}
