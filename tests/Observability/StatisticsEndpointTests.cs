using System.Net;
using System.Text.Json;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Observability;

/// <summary>
/// Triton's statistics extension: each served version's cumulative counts and durations, as
/// perf_analyzer reads them around its measurement windows.
/// </summary>
public sealed class StatisticsEndpointTests
{
    [Fact]
    public async Task Stats_count_each_request_batch_and_row_from_zero_and_leave_warm_up_out()
    {
        // A name of its own: the statistics, like the Prometheus registry, are process-wide, and
        // other tests serve ctr-ranker.
        using var repo = new CtrRepository(name: "stats-" + Guid.NewGuid().ToString("N")[..8], versions: 1);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        using (var loaded = await StatsAsync(client, $"/v2/models/{repo.Name}/stats"))
        {
            var s = Single(loaded, repo.Name);
            Assert.Equal(0, s.GetProperty("last_inference").GetInt64());
            Assert.Equal(0, s.GetProperty("inference_count").GetInt64());
            Assert.Equal(0, s.GetProperty("execution_count").GetInt64());
            Assert.Equal(0, Count(s, "success"));
            Assert.Equal(0, s.GetProperty("batch_stats").GetArrayLength());
        }

        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // One after another, so each runs as a batch of its own: 8 rows, 8 rows, 1 row.
        foreach (var c in new[] { "batch8", "batch8", "batch1" })
        {
            var golden = GoldenCase.Load("ctr-ranker", c);
            using var ok = await client.PostAsync($"/v2/models/{repo.Name}/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var stats = await StatsAsync(client, $"/v2/models/{repo.Name}/versions/1/stats"))
        {
            var s = Single(stats, repo.Name);
            Assert.Equal("1", s.GetProperty("version").GetString());
            Assert.InRange(s.GetProperty("last_inference").GetInt64(), before - 1, after + 1);
            Assert.Equal(17, s.GetProperty("inference_count").GetInt64());
            Assert.Equal(3, s.GetProperty("execution_count").GetInt64());
            Assert.Equal(3, Count(s, "success"));
            Assert.Equal(0, Count(s, "fail"));
            Assert.Equal(3, Count(s, "queue"));
            Assert.Equal(3, Count(s, "compute_infer"));
            long computeNs = Ns(s, "compute_infer");
            Assert.True(computeNs > 0, "the model's time is counted");
            Assert.True(Ns(s, "success") >= computeNs, "a request's duration holds its compute");

            var batches = s.GetProperty("batch_stats").EnumerateArray().ToDictionary(b => b.GetProperty("batch_size").GetInt32(), b => b.GetProperty("compute_infer"));
            Assert.Equal([1, 8], batches.Keys.Order());
            Assert.Equal(2, batches[8].GetProperty("count").GetInt64());
            Assert.Equal(1, batches[1].GetProperty("count").GetInt64());
            Assert.Equal(computeNs, batches[8].GetProperty("ns").GetInt64() + batches[1].GetProperty("ns").GetInt64());
        }

        using (var all = await StatsAsync(client, "/v2/models/stats"))
        {
            Assert.Contains(all.RootElement.GetProperty("model_stats").EnumerateArray(), m => m.GetProperty("name").GetString() == repo.Name);
        }
    }

    [Theory]
    [InlineData("/v2/models/no-such-model/stats", HttpStatusCode.NotFound, "unknown model 'no-such-model'")]
    [InlineData("/v2/models/ctr-ranker/versions/9/stats", HttpStatusCode.NotFound, "has no version 9")]
    [InlineData("/v2/models/ctr-ranker/versions/x/stats", HttpStatusCode.BadRequest, "version 'x' is not a positive integer")]
    public async Task A_model_or_version_not_served_is_named(string path, HttpStatusCode status, string expected)
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        using var response = await client.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(expected, Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
    }

    private static async Task<JsonDocument> StatsAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}");
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        return JsonDocument.Parse(bytes);
    }

    private static JsonElement Single(JsonDocument doc, string name)
    {
        var s = Assert.Single(doc.RootElement.GetProperty("model_stats").EnumerateArray());
        Assert.Equal(name, s.GetProperty("name").GetString());
        return s;
    }

    private static long Count(JsonElement s, string stat) => s.GetProperty("inference_stats").GetProperty(stat).GetProperty("count").GetInt64();

    private static long Ns(JsonElement s, string stat) => s.GetProperty("inference_stats").GetProperty(stat).GetProperty("ns").GetInt64();
}
