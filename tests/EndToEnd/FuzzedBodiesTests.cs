using System.Collections.Concurrent;
using System.Net;
using LowLatency.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// 10,000 mutated request bodies (from every golden request of every model, in JSON, in MessagePack,
/// and as JSON with binary tensors) through a running server: every answer is 2xx or 4xx, never a
/// 5xx or a dropped connection, the server stays ready, and a valid request afterwards gets the
/// right answer. The SharpFuzz harness
/// (tests/Fuzz, docs/security.md#fuzzing) explores further; this is its CI-sized, deterministic sibling.
/// </summary>
public sealed class FuzzedBodiesTests(ITestOutputHelper output)
{
    private const int Bodies = 10_000;

    [Fact]
    public async Task Ten_thousand_mutated_bodies_get_only_2xx_or_4xx_and_the_server_keeps_answering_right()
    {
        // Each golden request as JSON, as MessagePack, and as JSON followed by binary tensors (Triton's
        // binary tensor data), whose Inference-Header-Content-Length stays the original JSON's length.
        var seeds = GoldenCase.All().Select(c => GoldenCase.Load((string)c[0], (string)c[1]))
            .SelectMany(g => new[] { (g.Model, Wire.Json, g.Request.ToJson(), -1), (g.Model, Wire.MsgPack, g.Request.ToMsgPack(), -1), Binary(g) })
            .ToList();
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        var statuses = new ConcurrentDictionary<int, int>();
        var bad = new ConcurrentQueue<string>();
        int next = -1;
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Bodies)
            {
                var (model, type, body, jsonLength) = seeds[i % seeds.Count];
                // Seeded by the body's index: every run sends the same 10,000 bodies, whichever worker sends each.
                byte[] mutated = new Mutator(1234 + i).Mutate(body, seeds[(i * 7 + 3) % seeds.Count].Item3);
                try
                {
                    using var message = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{model}/infer") { Content = ServerFixture.Body(mutated, type) };
                    if (jsonLength >= 0)
                    {
                        message.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", jsonLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    using var response = await client.SendAsync(message);
                    byte[] answer = await response.Content.ReadAsByteArrayAsync();
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                    if ((int)response.StatusCode >= 500)
                    {
                        bad.Enqueue($"{(int)response.StatusCode} {model} {type}: {System.Text.Encoding.UTF8.GetString(answer)} body {Convert.ToBase64String(mutated)}");
                    }
                    else if (response.StatusCode != HttpStatusCode.OK && !Wire.ErrorOf(answer, type == Wire.MsgPack ? type : Wire.Json).Any(char.IsLetter))
                    {
                        bad.Enqueue($"{(int)response.StatusCode} without a message: {model} {type}");
                    }
                }
                catch (HttpRequestException e)
                {
                    bad.Enqueue($"connection failed: {e.Message} ({model} {type}, body {Convert.ToBase64String(mutated)})");
                }
            }
        })).ToList();
        await Task.WhenAll(workers);

        output.WriteLine(string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
        Assert.Equal(Bodies, statuses.Values.Sum() + bad.Count(b => b.StartsWith("connection", StringComparison.Ordinal)));
        Assert.True(bad.IsEmpty, $"{bad.Count} bad answers, first: {bad.FirstOrDefault()}");
        Assert.True(statuses.GetValueOrDefault(400) > Bodies / 2, "most mutations should break the request");

        using (var ready = await client.GetAsync("/v2/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        foreach (var c in GoldenCase.All())
        {
            var golden = GoldenCase.Load((string)c[0], (string)c[1]);
            using var response = await client.PostAsync($"/v2/models/{golden.Model}/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = Wire.ParseMsgPack(await response.Content.ReadAsByteArrayAsync());
            for (int o = 0; o < golden.Expected.Count; o++)
            {
                Wire.AssertClose(golden.Expected[o], result.Outputs[o]);
            }
        }
    }

    private static (string Model, string Type, byte[] Body, int JsonLength) Binary(GoldenCase g)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(Wire.BinaryJson(g.Request, _ => true));
        return (g.Model, "application/octet-stream", [.. json, .. Wire.BinaryTail(g.Request, _ => true)], json.Length);
    }
}
