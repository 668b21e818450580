using System.Text.Json.Nodes;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;
using LowLatency.Engine.Serving;
using LowLatency.Engine.Time;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Engine;

/// <summary>
/// A cancelled request leaves its queue at once, is answered Cancelled and never runs, whether it
/// waits behind a slow model, out a long batching window, or was cancelled before it was submitted;
/// once batched, running or answered, a cancel changes nothing. Cancels racing batch formation lose,
/// double-answer or mix up no request, and every request goes back to its pool. What the model ran
/// is counted in its runner (<see cref="GatedRunners"/>), on ctr-ranker itself.
/// </summary>
public sealed class CancellationTests
{
    private const string CancelledError = "model 'ctr-ranker': cancelled by the client before it ran";

    /// <summary>Longer than any wait here may take on a loaded machine, and well short of the one-minute window below.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static (InferenceEngine Engine, ModelVersion Model, GatedRunners Runners) Start(CtrRepository repo)
    {
        var runners = new GatedRunners();
        var engine = new InferenceEngine(new EngineOptions
        {
            ModelRepository = repo.Root,
            MaxQueueSize = 0,
            Services = new EngineServices(SystemClock.Instance, new RoutingEpoch(), runners.Wrap),
        });
        engine.Scan();
        engine.Load();
        return (engine, CtrRows.Latest(engine), runners);
    }

    private static InferenceRequest Build(ModelVersion model, string id, int first, int rows)
    {
        var r = CtrRows.Build(model, first, rows);
        r.Id = id;
        return r;
    }

    private static async Task AssertCancelledAsync(InferenceRequest r, ValueTask<bool> done)
    {
        Assert.False(await done.AsTask().WaitAsync(Bound));
        Assert.Equal(InferenceStatus.Cancelled, r.Status);
        Assert.Equal(CancelledError, r.Error);
    }

    [Fact]
    public async Task A_request_queued_behind_a_slow_model_leaves_at_once_and_never_runs()
    {
        using var repo = new CtrRepository(versions: 1);
        var (engine, model, runners) = Start(repo);
        using var _ = engine;
        using var __ = runners;
        runners.Close();
        var running = Build(model, "running", 0, 1);
        var runningDone = model.InferAsync(running);
        Assert.True(await Poll.UntilAsync(() => runners.Running == 1), "the first request never reached the model");
        var queued = Build(model, "queued", 1, 2);
        var queuedDone = model.InferAsync(queued);
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 1), "the second request never reached the queue");
        int pooled = model.PooledRequests;

        queued.Cancel();

        // Answered while the model still holds the first request's batch: it waited for nothing.
        await AssertCancelledAsync(queued, queuedDone);
        Assert.Equal(1, runners.Running);
        Assert.Equal(0, model.QueueDepth);
        queued.Dispose();
        Assert.Equal(pooled + 1, model.PooledRequests);

        runners.Open();
        Assert.True(await runningDone.AsTask().WaitAsync(Bound), running.Error);
        CtrRows.AssertRows(running, 0, 1);
        running.Dispose();
        Assert.Equal(0, runners.TimesRun("queued"));
        Assert.Equal(1, runners.Rows);

        // The next requests are served as before.
        for (int i = 0; i < 3; i++)
        {
            using var next = Build(model, $"next{i}", i, 3);
            Assert.True(await model.InferAsync(next).AsTask().WaitAsync(Bound), next.Error);
            CtrRows.AssertRows(next, i, 3);
        }

        Assert.Equal(10, runners.Rows);
        Assert.Equal(0, model.InFlight);
    }

    [Fact]
    public async Task A_request_waiting_out_a_long_batching_window_leaves_at_once_and_never_runs()
    {
        // A one-minute window for the throughput class: its requests sit in the queue for a minute
        // unless they fill a batch. (Warm-up, of no class, goes at once.)
        using var repo = new CtrRepository(versions: 1, edit: c => c["qos"] = JsonNode.Parse("""{ "throughput": { "max_queue_delay_microseconds": 60000000, "deadline_microseconds": 0 } }"""));
        var (engine, model, runners) = Start(repo);
        using var _ = engine;
        using var __ = runners;
        var waiting = Build(model, "waiting", 0, 1);
        waiting.Qos = QosClass.Throughput;
        var done = model.InferAsync(waiting);
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 1), "the request never reached the queue");
        int pooled = model.PooledRequests;

        waiting.Cancel();

        await AssertCancelledAsync(waiting, done);
        Assert.Equal(0, model.QueueDepth);
        waiting.Dispose();
        Assert.Equal(pooled + 1, model.PooledRequests);

        // A full batch of the same class goes at once, without the cancelled row: the model runs its
        // 64 rows alone (a row still queued ahead of them would have gone first, alone).
        using var full = Build(model, "full", 0, 64);
        full.Qos = QosClass.Throughput;
        Assert.True(await model.InferAsync(full).AsTask().WaitAsync(Bound), full.Error);
        CtrRows.AssertRows(full, 0, 64);
        Assert.Equal(0, runners.TimesRun("waiting"));
        Assert.Equal((1, 64), (runners.Batches, runners.Rows));
    }

    [Fact]
    public async Task A_token_cancels_the_request_it_was_registered_for_and_no_later_use_of_it()
    {
        using var repo = new CtrRepository(versions: 1, edit: c => c["qos"] = JsonNode.Parse("""{ "throughput": { "max_queue_delay_microseconds": 60000000, "deadline_microseconds": 0 } }"""));
        var (engine, model, runners) = Start(repo);
        using var _ = engine;
        using var __ = runners;

        // The pool emptied first, so that the request given back below is the one rented next.
        var others = new List<InferenceRequest>();
        for (int n = model.PooledRequests; n > 0; n--)
        {
            others.Add(model.RentRequest());
        }

        using var gone = new CancellationTokenSource();
        var waiting = Build(model, "waiting", 0, 1);
        waiting.Qos = QosClass.Throughput;
        var done = model.InferAsync(waiting);
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 1), "the request never reached the queue");
        waiting.CancelWhen(gone.Token);
        await gone.CancelAsync();
        await AssertCancelledAsync(waiting, done);
        waiting.Dispose();

        // A token already cancelled cancels at once.
        var late = Build(model, "late", 0, 1);
        late.Qos = QosClass.Throughput;
        var lateDone = model.InferAsync(late);
        late.CancelWhen(gone.Token);
        await AssertCancelledAsync(late, lateDone);
        late.Dispose();

        // A token cancelled after its request was disposed reaches the next use of the same object no more.
        using var stale = new CancellationTokenSource();
        var first = Build(model, "first", 0, 1);
        var firstDone = model.InferAsync(first);
        first.CancelWhen(stale.Token);
        Assert.True(await firstDone.AsTask().WaitAsync(Bound), first.Error);
        first.Dispose();
        var second = Build(model, "second", 1, 1);
        Assert.Same(first, second);
        second.Qos = QosClass.Throughput;
        var secondDone = model.InferAsync(second);
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 1), "the request never reached the queue");
        await stale.CancelAsync();

        // Still queued: a full batch of its class comes after it, and it runs first, alone.
        using var full = Build(model, "full", 0, 64);
        full.Qos = QosClass.Throughput;
        Assert.True(await model.InferAsync(full).AsTask().WaitAsync(Bound), full.Error);
        Assert.True(await secondDone.AsTask().WaitAsync(Bound), second.Error);
        CtrRows.AssertRows(second, 1, 1);
        second.Dispose();
        Assert.Equal((0, 0, 1, 1), (runners.TimesRun("waiting"), runners.TimesRun("late"), runners.TimesRun("first"), runners.TimesRun("second")));
        foreach (var r in others)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task A_request_cancelled_before_it_is_submitted_is_answered_Cancelled_as_it_is_submitted()
    {
        using var repo = new CtrRepository(versions: 1);
        var (engine, model, runners) = Start(repo);
        using var _ = engine;
        using var __ = runners;
        var r = Build(model, "early", 0, 1);
        r.Cancel();
        r.Cancel();

        await AssertCancelledAsync(r, model.InferAsync(r));
        r.Dispose();
        Assert.Equal(0, runners.TimesRun("early"));

        // The same object, rented again, starts uncancelled.
        var again = Build(model, "again", 0, 1);
        Assert.True(await model.InferAsync(again).AsTask().WaitAsync(Bound), again.Error);
        CtrRows.AssertRows(again, 0, 1);
        again.Dispose();
        Assert.Equal(1, runners.TimesRun("again"));
    }

    [Fact]
    public async Task A_cancel_while_the_request_runs_or_after_its_answer_changes_nothing()
    {
        using var repo = new CtrRepository(versions: 1);
        var (engine, model, runners) = Start(repo);
        using var _ = engine;
        using var __ = runners;
        var known = KnownRequests(model);
        runners.Close();
        var running = Build(model, "running", 2, 2);
        var done = model.InferAsync(running);
        Assert.True(await Poll.UntilAsync(() => runners.Running == 1), "the request never reached the model");

        running.Cancel();
        Assert.False(done.IsCompleted);
        runners.Open();

        Assert.True(await done.AsTask().WaitAsync(Bound), running.Error);
        CtrRows.AssertRows(running, 2, 2);
        running.Dispose();

        var answered = Build(model, "answered", 5, 1);
        InferenceRequest[] used = [running, answered];
        Assert.True(await model.InferAsync(answered).AsTask().WaitAsync(Bound), answered.Error);
        answered.Cancel();
        Assert.Equal(InferenceStatus.Ok, answered.Status);
        CtrRows.AssertRows(answered, 5, 1);
        answered.Dispose();

        Assert.Equal((1, 1), (runners.TimesRun("running"), runners.TimesRun("answered")));
        await AssertAllPooledOnceAsync(model, known, used);
    }

    [Fact]
    public async Task Cancels_racing_batch_formation_lose_double_answer_or_mix_up_no_request()
    {
        using var repo = new CtrRepository(versions: 1);
        var (engine, model, runners) = Start(repo);
        using var _ = engine;
        using var __ = runners;
        var known = KnownRequests(model);
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<InferenceRequest, byte>(ReferenceEqualityComparer.Instance);
        int ok = 0, cancelled = 0, okRows = 0;

        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            var rng = new Random(p);
            var inFlight = new List<(InferenceRequest R, string Id, int First, int Rows, int Action, ValueTask<bool> Done, Task Cancelling)>();
            for (int i = 0; i < 500; i++)
            {
                int first = rng.Next(8), rows = rng.Next(1, 4), action = rng.Next(5), spin = rng.Next(200);
                string id = $"{p}.{i}";
                var r = Build(model, id, first, rows);
                seen.TryAdd(r, 0);

                // 0: cancelled before submission; 1: just after, by the submitter; 2: by another
                // thread, after a short random spin; 3: after the answer; 4: never.
                if (action == 0)
                {
                    r.Cancel();
                }

                var done = model.InferAsync(r);
                var cancelling = Task.CompletedTask;
                if (action == 1)
                {
                    r.Cancel();
                }
                else if (action == 2)
                {
                    cancelling = Task.Run(() =>
                    {
                        Thread.SpinWait(spin);
                        r.Cancel();
                    });
                }

                inFlight.Add((r, id, first, rows, action, done, cancelling));
                if (inFlight.Count < 8 && i < 499)
                {
                    continue;
                }

                foreach (var (req, rid, f, n, a, d, c) in inFlight)
                {
                    bool answered = await d.AsTask().WaitAsync(Bound);
                    if (a == 3)
                    {
                        req.Cancel();
                    }

                    // Cancel must not overlap Dispose.
                    await c;
                    if (answered)
                    {
                        Assert.NotEqual(0, a);
                        CtrRows.AssertRows(req, f, n);
                        Assert.Equal(1, runners.TimesRun(rid));
                        Interlocked.Increment(ref ok);
                        Interlocked.Add(ref okRows, n);
                    }
                    else
                    {
                        Assert.True(a is 0 or 1 or 2, $"request {rid} (action {a}) ended {req.Status}: {req.Error}");
                        Assert.Equal(InferenceStatus.Cancelled, req.Status);
                        Assert.Equal(0, runners.TimesRun(rid));
                        Interlocked.Increment(ref cancelled);
                    }

                    req.Dispose();
                }

                inFlight.Clear();
            }
        })).ToArray();
        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromMinutes(5));

        Assert.Equal(2000, ok + cancelled);
        Assert.Equal(okRows, runners.Rows);
        Assert.Equal(0, model.InFlight);
        Assert.Equal(0, model.QueueDepth);
        await AssertAllPooledOnceAsync(model, known, seen.Keys);
    }

    /// <summary>
    /// Every request <paramref name="known"/> to the pool before and <paramref name="used"/> since is
    /// back in it, once: rented out again, the pool hands out each exactly once. (One disposed while
    /// its cancel was still on the list goes back from the step, a moment later.)
    /// </summary>
    private static async Task AssertAllPooledOnceAsync(ModelVersion model, IEnumerable<InferenceRequest> known, IEnumerable<InferenceRequest> used)
    {
        var all = new HashSet<InferenceRequest>(known, ReferenceEqualityComparer.Instance);
        all.UnionWith(used);
        Assert.True(await Poll.UntilAsync(() => model.PooledRequests == all.Count), $"{model.PooledRequests} requests pooled, {all.Count} expected");
        var rented = new HashSet<InferenceRequest>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < all.Count; i++)
        {
            Assert.True(rented.Add(model.RentRequest()), "the pool handed out a request twice");
        }

        Assert.Equal(0, model.PooledRequests);
        Assert.True(rented.SetEquals(all));
        foreach (var r in rented)
        {
            r.Dispose();
        }
    }

    /// <summary>The requests in the pool now (warm-up's), rented and given back to learn which they are.</summary>
    private static List<InferenceRequest> KnownRequests(ModelVersion model)
    {
        var known = new List<InferenceRequest>();
        for (int n = model.PooledRequests; n > 0; n--)
        {
            known.Add(model.RentRequest());
        }

        foreach (var r in known)
        {
            r.Dispose();
        }

        return known;
    }
}
