using LowLatency.Engine.Config;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Serving;
using LowLatency.Engine.Time;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Engine;

/// <summary>
/// A submitter alone in flight spins for its answer instead of awaiting it: the device thread hands
/// the answer over with one CAS, or, once the submitter gave up, queues it to the thread pool as
/// usual. Either way it is published exactly once. Whether a request was polled for is read from
/// the request itself (<see cref="InferenceRequest.AnsweredToPoller"/>), not from timings.
/// </summary>
public sealed class AnswerPollingTests
{
    private static readonly ModelConfig Config = ModelConfigReader.Parse("""
        { "name": "m", "platform": "pytorch_libtorch", "max_batch_size": 4,
          "input": [{ "name": "x", "data_type": "TYPE_FP32", "dims": [1] }],
          "output": [{ "name": "y", "data_type": "TYPE_FP32", "dims": [1] }] }
        """, "config.json");

    [Fact]
    public async Task An_answer_that_comes_while_the_submitter_polls_is_published_on_the_submitter_thread()
    {
        var r = new InferenceRequest(Config);
        r.BeginPolling();
        var answering = new Thread(() =>
        {
            // The batch's compute, so that the answer usually comes while the submitter polls (the
            // case named). Nothing below depends on it: an answer that comes before the poll begins
            // is handed to the poller too (A_failure_is_handed_to_the_poller_too).
            Thread.Sleep(20);
            r.Complete();
        });
        answering.Start();

        Assert.True(r.PollUntil(MonotonicClock.NowMicroseconds() + 10_000_000));
        Assert.True(r.AnsweredToPoller);
        Assert.True(r.Completion.IsCompleted);
        Assert.True(await r.Completion);
        answering.Join();
    }

    [Fact]
    public async Task A_submitter_that_gave_up_gets_its_answer_through_the_thread_pool()
    {
        var r = new InferenceRequest(Config);
        r.BeginPolling();
        Assert.False(r.PollUntil(MonotonicClock.NowMicroseconds() - 1));
        Assert.False(r.Completion.IsCompleted);

        r.Complete();
        Assert.False(r.AnsweredToPoller);
        Assert.True(await r.Completion.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_failure_is_handed_to_the_poller_too()
    {
        var r = new InferenceRequest(Config);
        r.BeginPolling();
        // As the scheduler refuses a request inside Submit (queue full): before the poll begins.
        r.Fail(InferenceStatus.Rejected, "the queue is full");

        Assert.True(r.PollUntil(MonotonicClock.NowMicroseconds() + 10_000_000));
        Assert.False(await r.Completion);
        Assert.Equal(InferenceStatus.Rejected, r.Status);
        Assert.Equal("the queue is full", r.Error);
    }

    [Fact]
    public async Task Giving_up_and_answering_at_the_same_moment_publish_exactly_once()
    {
        // Both sides race on the poll state, the deadline set to land near the answer: whichever wins,
        // the answer is published once (a second SetResult would throw) and never lost.
        var r = new InferenceRequest(Config);
        var rng = new Random(7);
        int polled = 0, queued = 0;
        for (int i = 0; i < 2000; i++)
        {
            r.OnRent();
            r.BeginPolling();
            using var go = new Barrier(2);
            var answering = new Thread(() =>
            {
                go.SignalAndWait();
                r.Complete();
            });
            answering.Start();
            go.SignalAndWait();
            bool here = r.PollUntil(MonotonicClock.NowMicroseconds() + rng.Next(0, 20));
            Assert.True(await r.Completion.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(here, r.AnsweredToPoller);
            answering.Join();
            _ = here ? polled++ : queued++;
            r.Dispose();
        }

        Assert.Equal(2000, polled + queued);
    }

    [Fact]
    public async Task A_submitter_alone_in_flight_gets_its_answer_before_submit_returns()
    {
        using var served = await Warmed(answerPollMicroseconds: 1_000_000);
        var model = served.Model;
        for (int i = 0; i < 20; i++)
        {
            var r = CtrRows.Build(model, i, 1);
            var done = model.InferAsync(r, pollWhenAlone: true);
            Assert.True(r.AnsweredToPoller, $"request {i} was not answered to its submitter");
            Assert.True(done.IsCompleted);
            Assert.True(await done, r.Error);
            CtrRows.AssertRows(r, i, 1);
            Assert.Equal(0, model.InFlight);
            r.Dispose();
        }
    }

    [Theory]
    [InlineData(QosClass.Balanced)]
    [InlineData(QosClass.Throughput)]
    public async Task A_request_that_waits_for_a_batching_window_is_awaited_not_polled(QosClass qos)
    {
        using var served = await Warmed(answerPollMicroseconds: 1_000_000);
        var model = served.Model;
        var r = CtrRows.Build(model, 3, 1);
        r.Qos = qos;
        var done = model.InferAsync(r, pollWhenAlone: true);
        Assert.True(await done, r.Error);
        Assert.False(r.AnsweredToPoller);
        CtrRows.AssertRows(r, 3, 1);
        r.Dispose();
    }

    [Fact]
    public async Task Nobody_polls_while_another_request_is_in_flight()
    {
        using var served = await Warmed(answerPollMicroseconds: 1_000_000);
        var model = served.Model;
        var (waiting, crowded) = await Crowd(model);
        Assert.False(crowded.AnsweredToPoller);
        CtrRows.AssertRows(crowded, 2, 1);
        CtrRows.AssertRows(waiting, 1, 1);
        crowded.Dispose();
        waiting.Dispose();
    }

    [Fact]
    public async Task A_request_alone_just_after_one_that_was_not_is_awaited_the_next_is_polled()
    {
        // A busy client's request is alone in flight only in the gap between two batches.
        using var served = await Warmed(answerPollMicroseconds: 1_000_000);
        var model = served.Model;
        var (waiting, crowded) = await Crowd(model);
        var afterCrowd = CtrRows.Build(model, 3, 1);
        Assert.True(await model.InferAsync(afterCrowd, pollWhenAlone: true), afterCrowd.Error);
        Assert.False(afterCrowd.AnsweredToPoller);
        var next = CtrRows.Build(model, 4, 1);
        Assert.True(await model.InferAsync(next, pollWhenAlone: true), next.Error);
        Assert.True(next.AnsweredToPoller);
        CtrRows.AssertRows(afterCrowd, 3, 1);
        CtrRows.AssertRows(next, 4, 1);
        foreach (var r in new[] { waiting, crowded, afterCrowd, next })
        {
            r.Dispose();
        }
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1_000_000, false)]
    public async Task With_answer_polling_off_or_not_asked_for_every_answer_is_awaited(long budget, bool pollWhenAlone)
    {
        using var served = await Warmed(answerPollMicroseconds: budget);
        var model = served.Model;
        for (int i = 0; i < 5; i++)
        {
            var r = CtrRows.Build(model, i, 1);
            Assert.True(await model.InferAsync(r, pollWhenAlone), r.Error);
            Assert.False(r.AnsweredToPoller);
            CtrRows.AssertRows(r, i, 1);
            r.Dispose();
        }
    }

    [Fact]
    public async Task Sequential_producers_racing_polled_and_batched_answers_lose_nothing()
    {
        // Two producers one request at a time: in flight alternates between one (polled) and two
        // (awaited, sometimes batched together with a polled one). Giving up is raced in the test above.
        using var served = await Warmed(answerPollMicroseconds: 1_000_000);
        var model = served.Model;
        int answered = 0, polled = 0;
        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < 1500; i++)
            {
                int first = (p + i) % 8, rows = 1 + (i % 3);
                var r = CtrRows.Build(model, first, rows);
                Assert.True(await model.InferAsync(r, pollWhenAlone: true), r.Error);
                CtrRows.AssertRows(r, first, rows);
                Interlocked.Increment(ref answered);
                if (r.AnsweredToPoller)
                {
                    Interlocked.Increment(ref polled);
                }

                r.Dispose();
            }
        })).ToArray();
        await Task.WhenAll(producers);
        Assert.Equal(3000, answered);
        Assert.Equal(0, model.InFlight);
        Assert.True(polled > 0, "no request was polled for");
    }

    [Fact]
    public void At_most_the_allowed_number_of_submitters_poll_at_once()
    {
        var polling = new AnswerPolling(500, 2);
        Assert.True(polling.TryEnter());
        Assert.True(polling.TryEnter());
        Assert.False(polling.TryEnter());
        polling.Exit();
        Assert.True(polling.TryEnter());
        Assert.False(AnswerPolling.Off.TryEnter());
    }

    /// <summary>An engine serving ctr-ranker with the given poll budget, its batch sizes 1 to 3 measured.</summary>
    private static async Task<Served> Warmed(long answerPollMicroseconds)
    {
        var engine = CtrRows.StartEngine(new EngineOptions { ModelRepository = RepoPaths.Models, StartupModels = ["ctr-ranker"], ModelControlMode = ModelControlMode.Explicit, AnswerPollMicroseconds = answerPollMicroseconds });
        var model = CtrRows.Latest(engine);
        await Warm(model);
        return new Served(engine, model);
    }

    /// <summary>
    /// Two requests in flight at once: a throughput one waiting out its 32 ms window, and rows 2
    /// submitted meanwhile (realtime); both answered when this returns.
    /// </summary>
    private static async Task<(InferenceRequest Waiting, InferenceRequest Crowded)> Crowd(ModelVersion model)
    {
        var waiting = CtrRows.Build(model, 1, 1);
        waiting.Qos = QosClass.Throughput;
        var first = model.InferAsync(waiting, pollWhenAlone: true);
        var crowded = CtrRows.Build(model, 2, 1);
        crowded.Qos = QosClass.Realtime;
        Assert.True(await model.InferAsync(crowded, pollWhenAlone: true), crowded.Error);
        Assert.True(await first, waiting.Error);
        return (waiting, crowded);
    }

    private sealed record Served(InferenceEngine Engine, ModelVersion Model) : IDisposable
    {
        public void Dispose() => Engine.Dispose();
    }

    /// <summary>Runs batches of 1 to 3 rows once each: nothing is polled before its batch size was measured.</summary>
    private static async Task Warm(ModelVersion model)
    {
        for (int rows = 1; rows <= 3; rows++)
        {
            var r = CtrRows.Build(model, 0, rows);
            Assert.True(await model.InferAsync(r, pollWhenAlone: true), r.Error);
            r.Dispose();
        }

        Assert.True(model.Estimator.Estimate(1) > 0);
    }
}
