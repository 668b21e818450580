using System.Globalization;
using System.IO.Hashing;
using System.Text;
using LowLatency.Features.Definitions;

namespace LowLatency.Tests.Streams;

/// <summary>
/// The semantics of docs/streams.md computed offline and naively from the whole log, as the test's
/// independent answer: per partition in order, the watermark before each entry (largest event time
/// so far − delay − 1), windows closed once end − 1 + lateness is at or below it, an event taken by
/// every window of it still open (a session merging with every open session it touches), dropped
/// when none is; values computed at the end from each window's list of events. Nothing here is
/// shared with the processor but the row's number encoding.
/// </summary>
internal static class Reference
{
    public static ReferenceResult Compute(StreamSource source, IReadOnlyList<IReadOnlyList<LogEntry>> partitions)
    {
        var result = new ReferenceResult();
        var windows = new Dictionary<(string, long), List<ReferenceWindow>>();
        foreach (var log in partitions)
        {
            long max = long.MinValue;
            foreach (var e in log)
            {
                long watermark = max == long.MinValue ? long.MinValue : max - source.WatermarkDelayMs - 1;
                if (e.Fields.TryGetValue("_wm", out var wm))
                {
                    max = Math.Max(max, long.Parse(wm, CultureInfo.InvariantCulture));
                    continue;
                }

                if (!e.Fields.TryGetValue(source.KeyField, out var keyText) || !long.TryParse(keyText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long key)
                    || !e.Fields.TryGetValue(source.TimestampField, out var timeText) || !long.TryParse(timeText, NumberStyles.None, CultureInfo.InvariantCulture, out long t))
                {
                    result.DeadLetters.Add((e.Id, null));
                    continue;
                }

                foreach (var view in source.Views)
                {
                    var stream = view.Stream!;
                    var list = windows.TryGetValue((view.Name, key), out var l) ? l : windows[(view.Name, key)] = [];
                    bool Closed(long end) => watermark != long.MinValue && end - 1 + stream.AllowedLatenessMs <= watermark;
                    bool taken = false;
                    if (stream.Window.Kind == StreamWindowKind.Session)
                    {
                        long start = t, end = t + stream.Window.GapMs;
                        var touching = list.Where(w => !Closed(w.End) && w.Start <= end && t <= w.End).ToList();
                        if (touching.Count > 0 || !Closed(end))
                        {
                            // The first session touched takes the others' events (appending to a
                            // list already there: a long session must not be copied per event).
                            var merged = touching.Count > 0 ? touching[0] : new ReferenceWindow(start, end);
                            if (touching.Count == 0)
                            {
                                list.Add(merged);
                            }

                            foreach (var w in touching.Skip(1))
                            {
                                merged.Events.AddRange(w.Events);
                                list.Remove(w);
                            }

                            merged.Start = Math.Min(start, touching.Count == 0 ? start : touching.Min(w => w.Start));
                            merged.End = Math.Max(end, touching.Count == 0 ? end : touching.Max(w => w.End));
                            merged.Events.Add(e);
                            taken = true;
                        }
                    }
                    else
                    {
                        long size = stream.Window.SizeMs, slide = stream.Window.SlideMs;
                        for (long start = (t / slide) * slide; start > t - size; start -= slide)
                        {
                            if (Closed(start + size))
                            {
                                continue;
                            }

                            var w = list.FirstOrDefault(x => x.Start == start);
                            if (w is null)
                            {
                                w = new ReferenceWindow(start, start + size);
                                list.Add(w);
                            }

                            w.Events.Add(e);
                            taken = true;
                        }
                    }

                    if (!taken)
                    {
                        result.DeadLetters.Add((e.Id, view.Name));
                    }
                }

                max = Math.Max(max, t);
            }
        }

        foreach (var ((viewName, key), list) in windows)
        {
            var view = source.Views.First(v => v.Name == viewName);
            foreach (var w in list)
            {
                var row = Row(view, source, w);
                int revision = Math.Min(w.Events.Count, 0xFF_FFFF);
                result.Windows[(viewName, key, w.End)] = (revision, row);
                if (!result.Latest.TryGetValue((viewName, key), out var latest) || w.End > latest.End)
                {
                    result.Latest[(viewName, key)] = (w.End, revision, row);
                }
            }
        }

        return result;
    }

    private static byte[] Row(FeatureView view, StreamSource source, ReferenceWindow w)
    {
        var row = new byte[view.RowBytes];
        var values = new Dictionary<string, double>();
        foreach (var f in view.Features.Where(f => f.Aggregation is not null))
        {
            values[f.Name] = Aggregate(f.Aggregation!, source, w.Events.Where(e => f.Aggregation!.Where is not { } q || (e.Fields.TryGetValue(q.Field, out var v) && v == q.EqualsValue)).ToList());
        }

        foreach (var f in view.Features)
        {
            double value = f.Derived is { } r ? (values[r.Denominator] == 0 || double.IsNaN(values[r.Denominator]) ? double.NaN : values[r.Numerator] / values[r.Denominator]) : values[f.Name];
            Encode(f, value, row.AsSpan(f.Offset, f.ByteSize));
        }

        return row;
    }

    private static double Aggregate(FeatureAggregation a, StreamSource source, List<LogEntry> events)
    {
        if (a.Function == AggregationFunction.Count)
        {
            return events.Count;
        }

        if (a.Function == AggregationFunction.DistinctCount)
        {
            var hashes = events.Where(e => e.Fields.ContainsKey(a.Field!)).Select(e => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(e.Fields[a.Field!]))).Distinct().Order().ToList();
            return hashes.Count < 64 ? hashes.Count : 63 / (hashes[63] / 18446744073709551616.0);
        }

        var numeric = events.Select(e => (e, ok: e.Fields.TryGetValue(a.Field!, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x), x: e.Fields.TryGetValue(a.Field!, out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double y) ? y : 0))
            .Where(p => p.ok).ToList();
        if (a.Function == AggregationFunction.Sum)
        {
            return numeric.Sum(p => p.x);
        }

        if (numeric.Count == 0)
        {
            return double.NaN;
        }

        return a.Function switch
        {
            AggregationFunction.Min => numeric.Min(p => p.x),
            AggregationFunction.Max => numeric.Max(p => p.x),
            AggregationFunction.Mean => numeric.Sum(p => p.x) / numeric.Count,
            _ => numeric.MaxBy(p => (long.Parse(p.e.Fields[source.TimestampField], CultureInfo.InvariantCulture), p.e.Position)).x,
        };
    }

    private static void Encode(FeatureDefinition f, double value, Span<byte> dst)
    {
        bool floating = f.DataType is FeatureDataType.FP16 or FeatureDataType.BF16 or FeatureDataType.FP32 or FeatureDataType.FP64;
        bool ok = !double.IsNaN(value) && (floating
            ? FeatureDataTypes.TryWrite(value, f.DataType, dst)
            : FeatureDataTypes.TryWrite((long)Math.Round(value, MidpointRounding.ToEven), f.DataType, dst));
        if (!ok)
        {
            f.Default.Span.CopyTo(dst);
        }
    }
}
