using System.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Time;

namespace LowLatency.Engine.Diagnostics;

/// <summary>
/// Tracing (ActivitySource <c>LowLatency.Engine</c>): per request a span with child spans for its
/// queue wait and its batch's execution, and per batch a span linked to every request in it. Free
/// when off: each call site first asks <see cref="Enabled"/> (no listener: one volatile read), and
/// spans are built from the timestamps the engine records anyway, after the fact and off the device
/// thread, so tracing never delays a batch.
/// </summary>
public static class EngineTracing
{
    public const string SourceName = "LowLatency.Engine";

    public static readonly ActivitySource Source = new(SourceName, "1.0");

    // Engine timestamps are monotonic microseconds; spans want wall-clock times. One anchor, taken
    // once, maps the first to the second (drift over a process's life is the clock's own).
    private static readonly long AnchorUs = MonotonicClock.NowMicroseconds();
    private static readonly DateTimeOffset AnchorTime = DateTimeOffset.UtcNow;

    public static bool Enabled => Source.HasListeners();

    public static DateTimeOffset ToTime(long monotonicUs) => AnchorTime.AddTicks((monotonicUs - AnchorUs) * 10);

    /// <summary>On the pool thread that completes a batch, before its requests are published: the batch's span, linked to theirs.</summary>
    internal static void RecordBatch(ReadOnlySpan<InferenceRequest?> batch)
    {
        var first = batch[0]!;
        if (first.ExecEndUs == 0)
        {
            return;
        }

        var links = new List<ActivityLink>(batch.Length);
        int rows = 0;
        foreach (var r in batch)
        {
            rows += r!.BatchSize;
            if (r.TraceContext != default)
            {
                links.Add(new ActivityLink(r.TraceContext));
            }
        }

        if (links.Count == 0)
        {
            return;
        }

        using var span = Source.StartActivity(ActivityKind.Internal, parentContext: default, tags: null, links: links, startTime: ToTime(first.ExecStartUs), name: "batch " + first.Config.Name);
        if (span is null)
        {
            return;
        }

        span.SetTag("model", first.Config.Name);
        span.SetTag("model.version", first.Version);
        span.SetTag("batch.requests", batch.Length);
        span.SetTag("batch.rows", rows);
        span.SetEndTime(ToTime(first.ExecEndUs).UtcDateTime);
        foreach (var r in batch)
        {
            r!.BatchTraceContext = span.Context;
        }
    }

    /// <summary>
    /// After the answer, under the request's own span: its queue wait and its batch's execution
    /// (linked to the batch span), from the engine's timestamps.
    /// </summary>
    public static void RecordRequest(Activity requestSpan, InferenceRequest r)
    {
        requestSpan.SetTag("model", r.Config.Name);
        requestSpan.SetTag("model.version", r.Version);
        requestSpan.SetTag("outcome", r.Status.ToString());
        if (r.ArrivalUs == 0)
        {
            return;
        }

        long queuedUntil = r.ExecStartUs != 0 ? r.ExecStartUs : r.CompletedUs;
        using (var queue = Source.StartActivity(ActivityKind.Internal, requestSpan.Context, startTime: ToTime(r.ArrivalUs), name: "queue"))
        {
            queue?.SetEndTime(ToTime(queuedUntil).UtcDateTime);
        }

        if (r.ExecStartUs == 0)
        {
            return;
        }

        ActivityLink[]? links = r.BatchTraceContext != default ? [new ActivityLink(r.BatchTraceContext)] : null;
        using var execute = Source.StartActivity(ActivityKind.Internal, requestSpan.Context, links: links, startTime: ToTime(r.ExecStartUs), name: "execute");
        if (execute is not null)
        {
            execute.SetTag("compute_us", r.ComputeMicroseconds);
            execute.SetEndTime(ToTime(r.ExecEndUs).UtcDateTime);
        }
    }
}
