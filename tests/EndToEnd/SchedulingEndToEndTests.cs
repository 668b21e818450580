using System.Net;
using System.Text.Json;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.EndToEnd;

/// <summary>Scheduling seen from a client: parameters, Server-Timing, 429 with Retry-After, 504.</summary>
public sealed class SchedulingEndToEndTests
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    private static string CtrConfig(string batching, string name = "ctr") => $$"""
        {"name": "{{name}}", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "sparse", "data_type": "TYPE_INT64", "dims": [26]}, {"name": "dense", "data_type": "TYPE_FP32", "dims": [13]}],
         "output": [{"name": "probability", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {{batching}}}
        """;

    private static async Task<(Microsoft.AspNetCore.Builder.WebApplication App, HttpClient Client)> StartAsync(TempRepository repo)
    {
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        return (app, client);
    }

    private static byte[] Body(string parameters) =>
        System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(Ctr.Request.ToJson()).Replace("{\"id\"", "{\"parameters\": " + parameters + ", \"id\"", StringComparison.Ordinal));

    [Fact]
    public async Task Responses_carry_the_engine_breakdown_in_Server_Timing()
    {
        using var repo = new TempRepository();
        repo.AddModel("ctr", CtrConfig("""{"max_queue_delay_microseconds": 0}"""));
        var (app, client) = await StartAsync(repo);
        await using (app)
        using (client)
        {
            using var response = await client.PostAsync("/v2/models/ctr/infer", ServerFixture.Body(Body("""{"qos": "realtime", "priority": 1, "timeout": 100000}"""), Wire.Json));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string timing = string.Join(",", response.Headers.GetValues("Server-Timing"));
            Assert.Matches(@"^queue;dur=[0-9.]+, compute;dur=[0-9.]+, overhead;dur=[0-9.]+$", timing);
            var result = Wire.ParseJson(await response.Content.ReadAsByteArrayAsync());
            Wire.AssertClose(Ctr.Expected[0], result.Outputs[0]);
        }
    }

    [Theory]
    [InlineData("""{"qos": "urgent"}""", "'urgent' is not realtime, balanced or throughput")]
    [InlineData("""{"priority": -1}""", "parameters.priority must be a non-negative integer")]
    [InlineData("""{"timeout": "soon"}""", "parameters.timeout must be a non-negative integer")]
    public async Task Bad_scheduling_parameters_get_400(string parameters, string expected)
    {
        using var repo = new TempRepository();
        repo.AddModel("ctr", CtrConfig("""{"max_queue_delay_microseconds": 0}"""));
        var (app, client) = await StartAsync(repo);
        await using (app)
        using (client)
        {
            using var response = await client.PostAsync("/v2/models/ctr/infer", ServerFixture.Body(Body(parameters), Wire.Json));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(expected, Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_Retry_After_at_once()
    {
        using var repo = new TempRepository();
        // A one-second window holds the first request in the queue; the queue holds one.
        repo.AddModel("ctr", CtrConfig("""{"max_queue_delay_microseconds": 1000000, "default_queue_policy": {"max_queue_size": 1}}"""));
        var (app, client) = await StartAsync(repo);
        await using (app)
        using (client)
        {
            var first = client.PostAsync("/v2/models/ctr/infer", ServerFixture.Body(Ctr.Request.ToMsgPack(), Wire.MsgPack));
            Assert.True(app.Services.GetRequiredService<InferenceEngine>().TryGetModel("ctr", out var served));
            Assert.True(await Poll.UntilAsync(() => served.Latest.QueueDepth == 1), "the first request never reached the queue");
            using var second = await client.PostAsync("/v2/models/ctr/infer", ServerFixture.Body(Ctr.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            Assert.Equal("1", second.Headers.GetValues("Retry-After").Single());
            Assert.Contains("is full (max_queue_size 1)", Wire.ErrorOf(await second.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
            Assert.False(first.IsCompleted);
            using var firstResponse = await first;
            Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        }
    }

    [Fact]
    public async Task A_request_that_times_out_in_the_queue_gets_504_on_time()
    {
        // A name of its own: the statistics read below are process-wide, per model name.
        string name = "ctr-timeout-" + Guid.NewGuid().ToString("N")[..8];
        using var repo = new TempRepository();
        repo.AddModel(name, CtrConfig("""{"max_queue_delay_microseconds": 5000000, "default_queue_policy": {"timeout_action": "REJECT", "default_timeout_microseconds": 20000}}""", name));
        var (app, client) = await StartAsync(repo);
        await using (app)
        using (client)
        {
            using var response = await client.PostAsync($"/v2/models/{name}/infer", ServerFixture.Body(Ctr.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Contains("timed out in the queue after 20000 µs", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);

            // Answered at its timeout, long before the 5 s window would have sent it: no batch ran,
            // and by the engine's own timestamps (arrival to answer, recorded before the answer is
            // published) the request ended after its 20 ms timeout and within its window.
            using var stats = JsonDocument.Parse(await client.GetByteArrayAsync($"/v2/models/{name}/stats"));
            var s = Assert.Single(stats.RootElement.GetProperty("model_stats").EnumerateArray());
            Assert.Equal(0, s.GetProperty("execution_count").GetInt64());
            var failed = s.GetProperty("inference_stats").GetProperty("fail");
            Assert.Equal(1, failed.GetProperty("count").GetInt64());
            Assert.InRange(failed.GetProperty("ns").GetInt64(), 20_000_000L, 4_999_999_999L);
        }
    }
}
