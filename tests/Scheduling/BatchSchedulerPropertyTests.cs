using CsCheck;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

/// <summary>The scheduler against a deliberately naive reference model of Triton's rules, over random arrivals and looks.</summary>
public sealed class BatchSchedulerPropertyTests
{
    private const int MaxBatch = 6;
    private static readonly int[] Preferred = [2, 4];
    private const long Window = 100;

    private static readonly ModelConfig Config = ModelConfigReader.Parse("""
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 6,
         "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [2]}],
         "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {"preferred_batch_size": [2, 4], "max_queue_delay_microseconds": 100, "priority_levels": 3, "default_priority_level": 2}}
        """, "t");

    private sealed record Queued(InferenceRequest Request, int Level, long Seq, int Rows, long WindowDeadline);

    [Fact]
    public void Batches_match_the_reference_and_every_request_is_served_once()
    {
        // (kind, level 1..3, rows 1..3, time step)
        var ops = Gen.Select(Gen.Int[0, 2], Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[0, 60]).Array[1, 120];
        ops.Sample(sequence =>
        {
            var scheduler = new BatchScheduler(Config, Config.Qos, new ComputeEstimator(MaxBatch), 1, 0);
            var reference = new List<Queued>();
            var served = new HashSet<InferenceRequest>();
            var batch = new InferenceRequest[MaxBatch];
            long now = 0, seq = 0;
            int admitted = 0;
            foreach (var (kind, level, rows, step) in sequence)
            {
                now += step;
                if (kind < 2)
                {
                    var r = new InferenceRequest(Config);
                    r.AddInput(0, TensorDataType.FP32, [rows, 2]);
                    r.Validate();
                    r.ArrivalUs = now;
                    r.Priority = level;
                    Assert.True(scheduler.Admit(r, now));
                    reference.Add(new Queued(r, level, seq++, rows, now + Window));
                    admitted++;
                    continue;
                }

                scheduler.AdvanceTimers(now);
                var decision = scheduler.TryTakeBatch(now, 0, batch);
                var (expectSend, expected) = ReferenceDecision(reference, now);
                Assert.Equal(expectSend, decision.Send);
                if (!decision.Send)
                {
                    continue;
                }

                var taken = batch[..decision.Count];
                Assert.Equal(expected.Select(q => q.Request), taken);
                Assert.True(taken.Sum(r => r.BatchSize) <= MaxBatch);
                foreach (var r in taken)
                {
                    Assert.True(served.Add(r), "a request was served twice");
                }

                reference.RemoveAll(q => taken.Contains(q.Request));
            }

            // Drain: everything left comes out, each once, in priority order.
            scheduler.Draining = true;
            while (scheduler.Pending > 0)
            {
                var d = scheduler.TryTakeBatch(now, 0, batch);
                Assert.True(d.Send);
                foreach (var r in batch[..d.Count])
                {
                    Assert.True(served.Add(r));
                }
            }

            Assert.Equal(admitted, served.Count);
        }, iter: 500);
    }

    /// <summary>Triton's rules, spelled out on a list: priority order (level, then arrival), greedy up to max.</summary>
    private static (bool Send, List<Queued> Batch) ReferenceDecision(List<Queued> queue, long now)
    {
        var ordered = queue.OrderBy(q => q.Level).ThenBy(q => q.Seq).ToList();
        var batch = new List<Queued>();
        int rows = 0;
        bool full = false;
        List<Queued>? bestPreferred = null;
        foreach (var q in ordered)
        {
            if (rows + q.Rows > MaxBatch)
            {
                full = true;
                break;
            }

            batch.Add(q);
            rows += q.Rows;
            if (Preferred.Contains(rows))
            {
                bestPreferred = [.. batch];
            }
        }

        if (batch.Count == 0)
        {
            return (false, batch);
        }

        bool expired = batch.Min(q => q.WindowDeadline) <= now;
        if (full || rows == MaxBatch)
        {
            return (true, batch);
        }

        if (bestPreferred is not null && !expired)
        {
            return (true, bestPreferred);
        }

        if (rows >= Preferred.Max() || expired)
        {
            return (true, batch);
        }

        return (false, []);
    }
}
