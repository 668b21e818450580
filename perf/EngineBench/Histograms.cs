using HdrHistogram;
using LowLatency.Engine.Requests;

/// <summary>One scenario's latency histograms (µs), filled from the engine's own timestamps of every answered request.</summary>
internal sealed class Histograms(int capacity)
{
    private readonly Lock _gate = new();

    // Preallocated: the harness itself must not allocate per request, or it would be counted.
    private readonly long[] _batchStarts = new long[capacity];
    private int _recorded;

    public LongHistogram Overhead { get; } = new(10_000_000, 3);

    public LongHistogram Total { get; } = new(10_000_000, 3);

    public LongHistogram Compute { get; } = new(10_000_000, 3);

    public LongHistogram Queue { get; } = new(10_000_000, 3);

    /// <summary>The overhead's first part: batch-eligible to execution start (the hand-off to the worker).</summary>
    public LongHistogram Dispatch { get; } = new(10_000_000, 3);

    /// <summary>The dispatch's first part: eligible to the scheduling step that handed the batch over (timer lateness when a window expires).</summary>
    public LongHistogram Timer { get; } = new(10_000_000, 3);

    /// <summary>The dispatch's second part: handed over to execution start (the worker's wake-up).</summary>
    public LongHistogram Wake { get; } = new(10_000_000, 3);

    /// <summary>The overhead's second part: execution end to this request's completion (scatter, queue).</summary>
    public LongHistogram Completion { get; } = new(10_000_000, 3);

    public int Polled { get; private set; }

    public int Batches
    {
        get
        {
            var starts = _batchStarts.AsSpan(0, _recorded);
            starts.Sort();
            int distinct = starts.Length == 0 ? 0 : 1;
            for (int i = 1; i < starts.Length; i++)
            {
                distinct += starts[i] != starts[i - 1] ? 1 : 0;
            }

            return distinct;
        }
    }

    public void Record(InferenceRequest r)
    {
        lock (_gate)
        {
            Overhead.RecordValue(r.OverheadMicroseconds);
            Total.RecordValue(Math.Max(0, r.CompletedUs - r.ArrivalUs));
            Compute.RecordValue(r.ComputeMicroseconds);
            Queue.RecordValue(r.QueueMicroseconds);
            Dispatch.RecordValue(Math.Max(0, r.ExecStartUs - r.EligibleUs));
            Timer.RecordValue(Math.Max(0, r.DispatchedUs - r.EligibleUs));
            Wake.RecordValue(Math.Max(0, r.ExecStartUs - r.DispatchedUs));
            Completion.RecordValue(Math.Max(0, r.CompletedUs - r.ExecEndUs));
            _batchStarts[_recorded++] = r.ExecStartUs;
            Polled += r.AnsweredToPoller ? 1 : 0;
        }
    }
}
