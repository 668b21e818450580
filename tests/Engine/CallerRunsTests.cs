using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Engine;

/// <summary>
/// A lone request submitted from a thread-pool thread, with its model's worker idle and no batching
/// window, runs on that thread and is answered before the submit returns; its outputs are the bytes
/// the device worker gives for the same rows. Whether it ran so is read from the scheduler's count
/// and the completion's state, not from timings.
/// </summary>
public sealed class CallerRunsTests
{
    private static InferenceEngine StartEngine(bool callerRuns) =>
        CtrRows.StartEngine(new EngineOptions { ModelRepository = RepoPaths.Models, CallerRuns = callerRuns });

    [Fact]
    public async Task A_lone_request_from_a_pool_thread_runs_there_with_the_worker_s_outputs()
    {
        using var engine = StartEngine(callerRuns: true);
        var model = CtrRows.Latest(engine);
        for (int row = 0; row < 8; row++)
        {
            // A dedicated thread never runs its own batch: this one goes to the device worker.
            byte[] onWorker = await OnDedicatedThread(() => Run(model, row, expectInline: false));
            long before = model.Scheduler.CallerRunCount;
            byte[] onCaller = await Task.Run(() => Run(model, row, expectInline: true));

            Assert.Equal(before + 1, model.Scheduler.CallerRunCount);
            Assert.Equal(onWorker, onCaller);
        }
    }

    [Fact]
    public async Task Turned_off_every_forward_runs_on_the_device_thread()
    {
        using var engine = StartEngine(callerRuns: false);
        var model = CtrRows.Latest(engine);
        for (int i = 0; i < 20; i++)
        {
            await Task.Run(async () =>
            {
                using var r = CtrRows.Build(model, i % 8, 1);
                Assert.True(await model.InferAsync(r), r.Error);
                CtrRows.AssertRows(r, i % 8, 1);
            });
        }

        Assert.Equal(0, model.Scheduler.CallerRunCount);
    }

    [Fact]
    public async Task Requests_queued_while_a_caller_runs_go_to_the_worker_batched()
    {
        // Many concurrent submitters: whoever finds the worker idle and the queue empty runs its own
        // request; the rest queue and are batched on the device thread. Every answer is its own rows.
        using var engine = StartEngine(callerRuns: true);
        var model = CtrRows.Latest(engine);
        int completed = 0;
        var producers = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < 300; i++)
            {
                int first = (p + i) % 8;
                using var r = CtrRows.Build(model, first, 1 + (i % 3));
                Assert.True(await model.InferAsync(r), r.Error);
                CtrRows.AssertRows(r, first, 1 + (i % 3));
                Interlocked.Increment(ref completed);
            }
        })).ToArray();
        await Task.WhenAll(producers);
        Assert.Equal(8 * 300, completed);
    }

    private static byte[] Run(ModelVersion model, int row, bool expectInline)
    {
        // Wait until the worker is idle again after the request before (its completion is queued
        // before it becomes idle), so that the request is alone with an idle worker.
        Thread.Sleep(20);
        using var r = CtrRows.Build(model, row, 1);
        var done = model.InferAsync(r);
        if (expectInline)
        {
            Assert.True(done.IsCompleted, "a lone request from a pool thread is answered before InferAsync returns");
        }

        Assert.True(done.AsTask().GetAwaiter().GetResult(), r.Error);
        CtrRows.AssertRows(r, row, 1);
        return r.OutputData(0).ToArray();
    }

    private static Task<byte[]> OnDedicatedThread(Func<byte[]> run)
    {
        var result = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(run());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        });
        thread.Start();
        return result.Task;
    }
}
