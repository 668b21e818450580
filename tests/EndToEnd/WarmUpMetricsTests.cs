using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// Warm-up runs requests at every batch-size bucket, three rounds, at every load and reload: none of
/// them came from a client, so none is in what /metrics serves. They once were: 15 "ok" requests,
/// batches of up to 64 rows and a ~200 ms duration per load of ctr-ranker, and a reload's warm-up
/// landed in the live series of the version it replaced.
/// </summary>
public sealed class WarmUpMetricsTests
{
    [Fact]
    public async Task Loading_and_reloading_a_model_adds_nothing_to_its_request_and_batch_series()
    {
        // A name of its own: the Prometheus registry is process-wide, and other tests serve ctr-ranker.
        using var repo = new CtrRepository(name: "warmup-" + Guid.NewGuid().ToString("N")[..8], versions: 1);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        string loaded = await ScrapeAsync(client);
        Assert.Equal(0, PrometheusText.Value(loaded, "lowlatency_engine_requests", repo.Name, "outcome=\"ok\""));
        Assert.Equal(0, PrometheusText.Value(loaded, "lowlatency_engine_request_duration_count", repo.Name, null));
        Assert.Equal(0, PrometheusText.Value(loaded, "lowlatency_engine_batch_size_count", repo.Name, null));

        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        using (var ok = await client.PostAsync($"/v2/models/{repo.Name}/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // A reload of the served version warms a new one up under the same labels.
        using (var reload = await client.PostAsync($"/v2/repository/models/{repo.Name}/load", null))
        {
            Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
        }

        string after = await ScrapeAsync(client);
        Assert.Equal(1, PrometheusText.Value(after, "lowlatency_engine_requests", repo.Name, "outcome=\"ok\""));
        Assert.Equal(1, PrometheusText.Value(after, "lowlatency_engine_request_duration_count", repo.Name, null));
        Assert.Equal(1, PrometheusText.Value(after, "lowlatency_engine_batch_size_count", repo.Name, null));
        Assert.Equal(8, PrometheusText.Value(after, "lowlatency_engine_batch_size_sum", repo.Name, null));
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
