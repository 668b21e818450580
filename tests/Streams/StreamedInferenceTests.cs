using System.Globalization;
using System.Text.Json;
using LowLatency.Features.Definitions;
using LowLatency.Streams.Events;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;
using StackExchange.Redis;

namespace LowLatency.Tests.Streams;

/// <summary>
/// The streaming example end to end: the server runs <c>streams/models</c> with the processor
/// computing <c>streams/feature_repo</c>'s views from a real redis-server's streams; the golden's
/// events (out of order, late within the allowed lateness, and too late) are appended, the watermark
/// fires the window, and the user-ctr model asked with user ids answers what PyTorch computed over
/// the features those events imply (<c>streams/models/user-ctr/golden-streamed</c>, made by
/// <c>models/export.py</c>).
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class StreamedInferenceTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task The_example_model_answers_from_the_features_the_stream_processor_computed()
    {
        string features = Path.Combine(Path.GetTempPath(), "ll-streamed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(features);
        try
        {
            // The shipped example, its online store moved to this test's redis-server.
            foreach (string file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "streams", "feature_repo"), "*.json"))
            {
                File.WriteAllText(Path.Combine(features, Path.GetFileName(file)), File.ReadAllText(file).Replace("127.0.0.1:6379", redis.ConnectionString, StringComparison.Ordinal));
            }

            var source = FeatureRepositoryReader.Read(features).StreamSources[0];
            using var golden = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Root, "streams", "models", "user-ctr", "golden-streamed", "streamed.json")));
            var root = golden.RootElement;

            var (app, address) = await ServerFixture.StartAsync(Path.Combine(RepoPaths.Root, "streams", "models"), [
                "--feature-repository", features,
                "--LowLatency:Streams:Enabled=true",
                "--LowLatency:Streams:ConnectionString=" + redis.ConnectionString,
                "--LowLatency:Streams:Member=server",
                "--LowLatency:Streams:CheckpointIntervalMs=20",
                "--LowLatency:Streams:LeaseMs=2000"]);
            try
            {
                using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
                await ServerFixture.WaitReadyAsync(client);

                // The log's times are ms after a minute boundary two minutes ago, so the rows
                // (event time: the window's end) are well within the view's max age of an hour.
                long window = root.GetProperty("window_ms").GetInt64();
                long start = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / window * window) - (2 * window);
                await AppendAsync(redis.Db, source, root.GetProperty("log"), start);
                await StreamLog.WaitCheckpointedAsync(redis.Db, source, TimeSpan.FromSeconds(60));

                var dead = await redis.Db.StreamRangeAsync(source.DeadLetterStream);
                var deadLetter = Assert.Single(dead);
                Assert.Equal("user_ctr_1m", deadLetter["view"].ToString());
                Assert.StartsWith("late:", deadLetter["reason"].ToString(), StringComparison.Ordinal);

                var request = root.GetProperty("request");
                var doc = new InferDoc(request.GetProperty("id").GetString(), [.. request.GetProperty("inputs").EnumerateArray().Select(Wire.Tensor)]);
                using var response = await client.PostAsync("/v2/models/user-ctr/infer", ServerFixture.Body(doc.ToJson(), "application/json"));
                byte[] body = await response.Content.ReadAsByteArrayAsync();
                Assert.True(response.IsSuccessStatusCode, System.Text.Encoding.UTF8.GetString(body));
                Wire.AssertClose(Wire.Tensor(root.GetProperty("expected_outputs")[0]), Wire.ParseJson(body).Outputs[0]);
                using var answer = JsonDocument.Parse(body);
                Assert.Equal(root.GetProperty("expected_feature_statuses").GetString(), answer.RootElement.GetProperty("parameters").GetProperty("feature_statuses").GetString());
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(features, recursive: true);
        }
    }

    /// <summary>The golden's log in order: an event to its key's partition, a heartbeat to every partition; times after <paramref name="start"/>.</summary>
    private static async Task AppendAsync(IDatabase db, StreamSource source, JsonElement log, long start)
    {
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        foreach (var entry in log.EnumerateArray())
        {
            if (entry.TryGetProperty(EventSchema.HeartbeatField, out var heartbeat))
            {
                for (int p = 0; p < source.Partitions; p++)
                {
                    await db.StreamAddAsync(source.PartitionStream(p), EventSchema.HeartbeatField, I(start + heartbeat.GetInt64()));
                }

                continue;
            }

            long user = entry.GetProperty(source.KeyField).GetInt64();
            await db.StreamAddAsync(source.PartitionStream(StreamPartitioner.Partition(user, source.Partitions)), [
                new NameValueEntry(source.KeyField, I(user)),
                new NameValueEntry(source.TimestampField, I(start + entry.GetProperty("ts").GetInt64())),
                new NameValueEntry("type", entry.GetProperty("type").GetString()),
                new NameValueEntry("item_id", I(entry.GetProperty("item_id").GetInt64())),
                new NameValueEntry("dwell_ms", I(entry.GetProperty("dwell_ms").GetInt64())),
            ]);
        }
    }
}
