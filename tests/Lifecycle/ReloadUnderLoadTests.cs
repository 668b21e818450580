using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace LowLatency.Tests.Lifecycle;

/// <summary>
/// Reload and unload while clients keep sending, through Kestrel: no request fails because of it.
/// The p99 cost of a reload is measured by the perf suite (perf/reload.ps1), not here.
/// </summary>
public sealed class ReloadUnderLoadTests(ITestOutputHelper output)
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    /// <summary>
    /// The order of events across the clients and the test: each send, answer, and the start and end
    /// of each reload or unload takes the next number. A load that answered before a request was sent
    /// has a smaller number than the send, whatever the clocks say.
    /// </summary>
    private sealed class EventOrder
    {
        private long _last;

        public long Next() => Interlocked.Increment(ref _last);
    }

    /// <param name="Sent">The event number of the request's send; <paramref name="At"/>, of its answer.</param>
    private sealed record Answer(string Path, HttpStatusCode Status, string? Version, string? Error, double Value, long Sent, long At);

    private static async Task LoadAsync(HttpClient client, EventOrder order, ConcurrentQueue<Answer> answers, Func<string> next, CancellationToken stop)
    {
        byte[] body = Golden.Request.ToMsgPack();
        while (!stop.IsCancellationRequested)
        {
            string path = next();
            long sent = order.Next();
            using var response = await client.PostAsync(path, ServerFixture.Body(body, Wire.MsgPack), CancellationToken.None);
            byte[] bytes = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var r = Wire.ParseMsgPack(bytes);
                answers.Enqueue(new Answer(path, response.StatusCode, r.ModelVersion, null, r.Outputs[0].Values[0], sent, order.Next()));
            }
            else
            {
                answers.Enqueue(new Answer(path, response.StatusCode, null, Wire.ErrorOf(bytes, Wire.MsgPack), double.NaN, sent, order.Next()));
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> requests sent after event <paramref name="after"/> were answered.</summary>
    private static async Task AnsweredAfterAsync(ConcurrentQueue<Answer> answers, long after, int count) =>
        Assert.True(await Poll.UntilAsync(() => answers.Count(a => a.Sent > after) >= count), $"fewer than {count} requests answered after event {after}");

    [Fact]
    public async Task Reloading_under_steady_load_fails_no_request_and_frees_every_old_version()
    {
        using var repo = new CtrRepository(versions: 1);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        var engine = app.Services.GetRequiredService<InferenceEngine>();
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        var answers = new ConcurrentQueue<Answer>();
        var order = new EventOrder();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        string infer = $"/v2/models/{repo.Name}/infer";
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(() => LoadAsync(client, order, answers, () => infer, stop.Token))).ToList();

        var retired = new List<ModelVersion>();
        var reloads = new List<(long From, long To, long Ms)>();
        // The load runs steadily before the first reload and between reloads.
        await AnsweredAfterAsync(answers, 0, 100);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(engine.TryGetModel(repo.Name, out var served));
            retired.Add(served.Versions[1]);
            long from = order.Next(), fromMs = clock.ElapsedMilliseconds;
            using var load = await client.PostAsync($"/v2/repository/models/{repo.Name}/load", null);
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
            long to = order.Next();
            reloads.Add((from, to, clock.ElapsedMilliseconds - fromMs));
            await AnsweredAfterAsync(answers, to, 100);
        }

        stop.Cancel();
        await Task.WhenAll(clients);
        double seconds = clock.Elapsed.TotalSeconds;

        var all = answers.ToList();
        var failed = all.Where(a => a.Status != HttpStatusCode.OK).ToList();
        output.WriteLine($"{all.Count} requests in {seconds:0.0} s ({all.Count / seconds:0} req/s), {failed.Count} failed; reloads took {string.Join(", ", reloads.Select(r => $"{r.Ms} ms"))}");
        Assert.True(failed.Count == 0, $"{failed.Count} failed, first: {failed.FirstOrDefault()}");
        Assert.All(all, a => Assert.Equal(Golden.Expected[0].Values[0], a.Value, 4));
        // The load really overlapped each reload: requests were in flight across it.
        foreach (var (from, to, _) in reloads)
        {
            Assert.Contains(all, a => a.Sent < to && a.At > from);
        }

        // Each replaced version let go of every native handle once its last request was answered.
        foreach (var old in retired)
        {
            await old.Released.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, old.Handles.Live);
        }

        Assert.True(engine.TryGetModel(repo.Name, out var final));
        Assert.DoesNotContain(final.Versions[1], retired);
    }

    [Fact]
    public async Task Unloading_under_load_answers_404_after_the_swap_and_fails_nothing_in_flight()
    {
        using var repo = new CtrRepository(versions: 2);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);

        var answers = new ConcurrentQueue<Answer>();
        var order = new EventOrder();
        using var stop = new CancellationTokenSource();
        string v2 = $"/v2/models/{repo.Name}/versions/2/infer", any = $"/v2/models/{repo.Name}/infer";
        int n = 0;
        string Next() => Interlocked.Increment(ref n) % 2 == 0 ? v2 : any;
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(() => LoadAsync(client, order, answers, Next, stop.Token))).ToList();

        // Both routes answer under load before version 2 goes.
        Assert.True(
            await Poll.UntilAsync(() => answers.Any(a => a.Path == v2 && a.Status == HttpStatusCode.OK) && answers.Count(a => a.Path == any && a.Status == HttpStatusCode.OK) >= 50),
            "the load was not answered on both routes");

        // Version 2 goes: a load that serves only version 1.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(repo.Root, repo.Name, "config.json")))!.AsObject();
        config["version_policy"] = JsonNode.Parse("""{ "specific": { "versions": [1] } }""");
        string load = new JsonObject { ["parameters"] = new JsonObject { ["config"] = config.ToJsonString() } }.ToJsonString();
        using (var r = await client.PostAsync($"/v2/repository/models/{repo.Name}/load", new StringContent(load, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        long versionGone = order.Next();
        // The load goes on until both routes were answered after the swap: version 1, and a 404 for version 2.
        Assert.True(
            await Poll.UntilAsync(() =>
                answers.Any(a => a.Path == any && a.Status == HttpStatusCode.OK && a.Sent > versionGone && a.Version == "1")
                && answers.Any(a => a.Path == v2 && a.Status == HttpStatusCode.NotFound && a.Sent > versionGone)),
            "the load was not answered on both routes after version 2 went");

        // Then the whole model goes.
        using (var r = await client.PostAsync($"/v2/repository/models/{repo.Name}/unload", null))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        long modelGone = order.Next();
        await AnsweredAfterAsync(answers, modelGone, 50);
        stop.Cancel();
        await Task.WhenAll(clients);

        var all = answers.ToList();
        output.WriteLine($"{all.Count} requests: {string.Join(", ", all.GroupBy(a => a.Status).Select(g => $"{(int)g.Key}: {g.Count()}"))}");
        // Only answers or 404s: nothing in flight failed, nothing hung.
        Assert.All(all, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{a.Status}: {a.Error}"));
        Assert.All(all.Where(a => a.Status == HttpStatusCode.OK), a => Assert.Equal(Golden.Expected[0].Values[0], a.Value, 4));
        // Sent once the swap was answered: 404, naming what is gone (the load or unload returns
        // after the new table is published, so no margin is needed).
        Assert.All(all.Where(a => a.Path == v2 && a.Sent > versionGone), a => Assert.Equal(HttpStatusCode.NotFound, a.Status));
        Assert.All(all.Where(a => a.Sent > modelGone), a => Assert.Equal(HttpStatusCode.NotFound, a.Status));
        Assert.Contains(all, a => a.Path == v2 && a.Status == HttpStatusCode.OK);
        Assert.Contains(all, a => a.Path == any && a.Status == HttpStatusCode.OK && a.Sent > versionGone && a.Version == "1");
        Assert.Contains(all, a => a.Status == HttpStatusCode.NotFound && a.Error!.Contains("no version 2", StringComparison.Ordinal));
        Assert.Contains(all, a => a.Status == HttpStatusCode.NotFound && a.Error!.Contains("unknown model", StringComparison.Ordinal));
    }
}
