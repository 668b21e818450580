using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// SIGTERM while model loads queue on the loader thread, with a short drain timeout: the deadline
/// bounds the whole shutdown, every load gets an answer, and the log's count of unanswered requests is true.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class SigtermWithQueuedLoadsTests
{
    private const int DrainTimeoutSeconds = 3;
    private const int Loads = 6;

    [Fact]
    public async Task Sigterm_answers_queued_loads_with_503_and_exits_within_the_drain_deadline()
    {
        await using var server = await HostileServer.StartAsync([$"--LowLatency:DrainTimeoutSeconds={DrainTimeoutSeconds}", "--Logging:LogLevel:LowLatency.Host=Information"]);
        string body = SlowLoad();
        // One connection per load, as separate clients would: each waits for its own answer.
        var loads = Enumerable.Range(0, Loads).Select(_ => LoadAsync(server.Address, body)).ToArray();
        // The first load runs on the loader thread (its version reports LOADING), the others queue behind it.
        Assert.True(await LoadingAsync(server), "no load began\n" + server.Log);
        // The other five were sent at the same moment: the signal waits until all six are in the server.
        Assert.True(await AllInFlightAsync(server), "the six loads never were in the server at once\n" + server.Log);

        var stopwatch = Stopwatch.StartNew();
        server.Terminate();
        // The deadline is the drain timeout; the margin is for the process to release its models and
        // exit on a shared, loaded machine (measured under 1 s on the reference VM). Without the bound,
        // each queued load ran to its end: about 5 s each here, some 30 s for the six.
        bool exited = await server.ExitsWithinAsync(TimeSpan.FromSeconds(DrainTimeoutSeconds + 7));
        var elapsed = stopwatch.Elapsed;
        var outcomes = await Task.WhenAll(loads);

        Assert.True(exited, $"the server had not exited {elapsed.TotalSeconds:F1} s after SIGTERM with DrainTimeoutSeconds={DrainTimeoutSeconds}\n{server.Log}");
        Assert.Equal(0, server.ExitCode);
        // Every client got an answer: the queued loads 503 at once, the running one its own outcome or 503 before the deadline.
        Assert.All(outcomes, o => Assert.True(o is 200 or 503, $"a load got {o} (0: no answer, the connection was cut); all: {string.Join(", ", outcomes)}\n{server.Log}"));
        Assert.True(outcomes.Count(o => o == 503) >= Loads - 1, $"expected the queued loads to be refused: {string.Join(", ", outcomes)}");
        Assert.Contains("stopped: 0 accepted requests unanswered", server.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// A load of the image classifier that warms up at batch sizes up to 512: about 5 s on the
    /// reference VM, long enough that six of them queue well past the drain timeout.
    /// </summary>
    private static string SlowLoad()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, "image-classifier", "config.json")))!;
        config["max_batch_size"] = 512;
        config["dynamic_batching"]!["preferred_batch_size"] = new JsonArray(128, 256);
        return new JsonObject { ["parameters"] = new JsonObject { ["config"] = config.ToJsonString() } }.ToJsonString();
    }

    /// <summary>The load's status code; 0 when the connection ended without an answer.</summary>
    private static async Task<int> LoadAsync(Uri address, string body)
    {
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
        try
        {
            using var response = await client.PostAsync("/v2/repository/models/image-classifier/load", new StringContent(body, Encoding.UTF8, "application/json"));
            await response.Content.ReadAsByteArrayAsync();
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>Whether all <see cref="Loads"/> loads are requests the server is answering (its own active-request gauge; no other POST is open meanwhile).</summary>
    private static async Task<bool> AllInFlightAsync(HostileServer server)
    {
        const string series = "microsoft_aspnetcore_hosting_http_server_active_requests{http_request_method=\"POST\",url_scheme=\"http\"} ";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            string text = await server.Client.GetStringAsync("/metrics");
            int at = text.IndexOf(series, StringComparison.Ordinal);
            if (at >= 0 && int.TryParse(text.AsSpan(at + series.Length, text.IndexOf('\n', at) - at - series.Length).Trim(), out int active) && active >= Loads)
            {
                return true;
            }

            await Task.Delay(20);
        }

        return false;
    }

    private static async Task<bool> LoadingAsync(HostileServer server)

    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await server.Client.PostAsync("/v2/repository/index", new StringContent("{}", Encoding.UTF8, "application/json"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (index.RootElement.EnumerateArray().Any(e => e.TryGetProperty("state", out var s) && s.GetString() == "LOADING"))
                {
                    return true;
                }
            }

            await Task.Delay(20);
        }

        return false;
    }
}
