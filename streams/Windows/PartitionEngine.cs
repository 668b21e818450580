using System.Globalization;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;
using LowLatency.Streams.Events;

namespace LowLatency.Streams.Windows;

/// <summary>
/// The windows of one partition, applied in the partition's order. Everything that decides a value
/// is a function of that order alone: the partition's watermark (largest event time seen − the
/// out-of-orderness bound − 1 ms, before each entry), which closes windows (end − 1 + allowed
/// lateness at or below it) and so decides what is dropped as too late, and which session merges
/// with which. That is what lets a replay after a crash, or another process taking the partition,
/// reach the same values. When a window is first written is the processor's combined watermark's
/// business (<see cref="Fire"/>): it changes when values appear, never what they are.
/// </summary>
public sealed partial class PartitionEngine
{
    private readonly ViewProgram[] _views;
    private readonly long _delayMs;
    private readonly long _maxKeyBytes;
    private readonly Dictionary<EntityKey, KeyState> _keys = [];
    private readonly PriorityQueue<TimerRef, long> _fire = new();
    private readonly PriorityQueue<TimerRef, long> _close = new();
    private readonly List<TimerRef> _late = [];
    private readonly List<KeyState> _dirty = [];
    private readonly List<DeadLetter> _deadLetters = [];
    private EngineCounters _counters;

    public PartitionEngine(IReadOnlyList<ViewProgram> views, long watermarkDelayMs, long maxKeyBytes)
    {
        _views = [.. views];
        _delayMs = watermarkDelayMs;
        _maxKeyBytes = maxKeyBytes;
    }

    public IReadOnlyList<ViewProgram> Views => _views;

    /// <summary>The largest event time taken (events and heartbeats); <see cref="long.MinValue"/> before any.</summary>
    public long MaxEventTime { get; private set; } = long.MinValue;

    /// <summary>The partition's watermark: no window ending at or before it (plus lateness) takes events any more.</summary>
    public long Watermark => MaxEventTime == long.MinValue ? long.MinValue : MaxEventTime - _delayMs - 1;

    public int KeyCount => _keys.Count;

    public long StateBytes { get; private set; }

    public EngineCounters Counters => _counters;

    /// <summary>Entries refused since the last <see cref="TakeDeadLetters"/>.</summary>
    public List<DeadLetter> DeadLetters => _deadLetters;

    /// <summary>Applies entry <paramref name="entry"/> of the batch (its index, for dead letters).</summary>
    public void Apply(EventRecord e, int entry)
    {
        _counters.Entries++;
        if (e.IsHeartbeat)
        {
            Advance(e.Time);
            return;
        }

        long watermark = Watermark;
        if (!_keys.TryGetValue(e.Key, out var key))
        {
            key = new KeyState(e.Key, _views.Length);
        }

        for (int v = 0; v < _views.Length; v++)
        {
            var view = _views[v];
            var outcome = view.Window.Kind == StreamWindowKind.Session
                ? ApplySession(view, key, e, watermark)
                : ApplyAligned(view, key, e, watermark);
            if (outcome == Outcome.Late)
            {
                _counters.Dropped++;
                _deadLetters.Add(new DeadLetter(entry, view.View.Name, LateReason(view, e.Time, watermark)));
            }
            else if (outcome == Outcome.Capped)
            {
                _counters.CapHits++;
                _deadLetters.Add(new DeadLetter(entry, view.View.Name, "key_state_cap: the key's open windows are at the cap of " + _maxKeyBytes.ToString(CultureInfo.InvariantCulture) + " bytes"));
            }
        }

        if (key.Windows > 0)
        {
            _keys.TryAdd(e.Key, key);
        }

        Advance(e.Time);
    }

    /// <summary>Writes every window whose end the combined watermark has passed (first firing), dropping those already closed.</summary>
    public void Fire(long combinedWatermark, IWindowEmitter emitter)
    {
        long own = Watermark;
        while (_fire.TryPeek(out var t, out long end) && end - 1 <= combinedWatermark)
        {
            _fire.Dequeue();
            var w = t.Window;
            if (w.Gone || w.End != end || w.Fired)
            {
                continue;
            }

            emitter.Emit(_views[t.View], t.Key.Key, w);
            w.Fired = true;
            w.Dirty = false;
            if (IsClosed(_views[t.View], w.End, own))
            {
                Remove(t.Key, t.View, w);
            }
        }
    }

    /// <summary>
    /// Writes fired windows that took late events since (one update per window however many events,
    /// as an upsert sink allows), then drops every fired window the partition's watermark has closed.
    /// </summary>
    public void Flush(IWindowEmitter emitter)
    {
        foreach (var t in _late)
        {
            if (!t.Window.Gone && t.Window.Fired && t.Window.Dirty)
            {
                emitter.Emit(_views[t.View], t.Key.Key, t.Window);
                t.Window.Dirty = false;
            }
        }

        _late.Clear();
        long own = Watermark;
        while (_close.TryPeek(out var t, out long at) && at <= own)
        {
            _close.Dequeue();
            var w = t.Window;
            if (w.Gone || w.End != t.End || !w.Fired)
            {
                // Not written yet: the first firing drops it, being closed by then.
                continue;
            }

            if (w.Dirty)
            {
                emitter.Emit(_views[t.View], t.Key.Key, w);
                w.Dirty = false;
            }

            Remove(t.Key, t.View, w);
        }
    }

    /// <summary>The keys changed since the last call (a key with no window left is to be deleted), each once.</summary>
    public void TakeDirty(List<KeyState> into)
    {
        foreach (var k in _dirty)
        {
            k.Dirty = false;
            into.Add(k);
        }

        _dirty.Clear();
    }

    private void Advance(long time)
    {
        if (time > MaxEventTime)
        {
            MaxEventTime = time;
        }
    }

    private static bool IsClosed(ViewProgram view, long end, long watermark) =>
        watermark != long.MinValue && end - 1 + view.AllowedLatenessMs <= watermark;

    private Outcome ApplyAligned(ViewProgram view, KeyState key, EventRecord e, long watermark)
    {
        long size = view.Window.SizeMs, slide = view.Window.SlideMs, t = e.Time;
        bool any = false, capped = false;
        var list = key.Views[view.Index];
        for (long start = t - (t % slide); start > t - size; start -= slide)
        {
            long end = start + size;
            if (IsClosed(view, end, watermark))
            {
                continue;
            }

            WindowState? w = null;
            if (list is not null)
            {
                foreach (var candidate in list)
                {
                    if (candidate.Start == start)
                    {
                        w = candidate;
                        break;
                    }
                }
            }

            if (w is null)
            {
                w = Open(view, key, start, end, watermark);
                if (w is null)
                {
                    capped = true;
                    continue;
                }

                list = key.Views[view.Index];
            }

            Add(view, key, w, e);
            any = true;
        }

        return any ? Outcome.Taken : capped ? Outcome.Capped : Outcome.Late;
    }

    // Flink's merging of session windows: the event's own window [t, t + gap) merges with every open
    // session it intersects (touching counts), and only then is lateness judged, on the merged
    // window; a closed session is out of reach, as its state is.
    private Outcome ApplySession(ViewProgram view, KeyState key, EventRecord e, long watermark)
    {
        long start = e.Time, end = e.Time + view.Window.GapMs;
        WindowState? target = null;
        var list = key.Views[view.Index];
        if (list is not null)
        {
            for (int i = 0; i < list.Count; i++)
            {
                var s = list[i];
                if (IsClosed(view, s.End, watermark) || s.Start > end || start > s.End)
                {
                    continue;
                }

                if (target is null)
                {
                    target = s;
                    continue;
                }

                Merge(view, target, s);
                end = Math.Max(end, s.End);
                Remove(key, view.Index, s);
                i--;
            }
        }

        if (target is null)
        {
            if (IsClosed(view, end, watermark))
            {
                return Outcome.Late;
            }

            target = Open(view, key, start, end, watermark);
            if (target is null)
            {
                return Outcome.Capped;
            }
        }
        else
        {
            target.Start = Math.Min(target.Start, start);
            if (end > target.End)
            {
                // A longer session is another window (another end, another row time): it fires anew.
                target.End = end;
                target.Fired = false;
                target.Dirty = false;
                Schedule(key, view, target);
            }
        }

        Add(view, key, target, e);
        return Outcome.Taken;
    }

    private static void Merge(ViewProgram view, WindowState into, WindowState from)
    {
        into.Events += from.Events;
        into.Start = Math.Min(into.Start, from.Start);
        for (int c = 0; c < view.Cells.Length; c++)
        {
            ref var a = ref into.Cells[c];
            var b = from.Cells[c];
            if (b.N == 0)
            {
                continue;
            }

            switch (view.Cells[c].Function)
            {
                case AggregationFunction.Sum or AggregationFunction.Mean:
                    a.V = a.N == 0 ? b.V : a.V + b.V;
                    break;
                case AggregationFunction.Min:
                    a.V = a.N == 0 ? b.V : Math.Min(a.V, b.V);
                    break;
                case AggregationFunction.Max:
                    a.V = a.N == 0 ? b.V : Math.Max(a.V, b.V);
                    break;
                case AggregationFunction.Last when a.N == 0 || b.T > a.T || (b.T == a.T && b.P > a.P):
                    a.V = b.V;
                    a.T = b.T;
                    a.P = b.P;
                    break;
                case AggregationFunction.DistinctCount:
                    into.Sketches[view.Cells[c].Sketch].Merge(from.Sketches[view.Cells[c].Sketch]);
                    break;
            }

            a.N += b.N;
        }
    }

    private void Add(ViewProgram view, KeyState key, WindowState w, EventRecord e)
    {
        w.Events++;
        var cells = view.Cells;
        for (int c = 0; c < cells.Length; c++)
        {
            var program = cells[c];
            if (program.Filter >= 0 && !e.Matches[program.Filter])
            {
                continue;
            }

            ref var cell = ref w.Cells[c];
            int f = program.Field;
            switch (program.Function)
            {
                case AggregationFunction.Count:
                    cell.N++;
                    break;
                case AggregationFunction.DistinctCount:
                    if (e.Present[f])
                    {
                        w.Sketches[program.Sketch].Add(e.Hash[f]);
                        cell.N++;
                    }

                    break;
                default:
                    if (e.HasNumber[f])
                    {
                        Take(ref cell, program.Function, e.Number[f], e);
                    }

                    break;
            }
        }

        if (w.Fired && !w.Dirty)
        {
            w.Dirty = true;
            _counters.Late++;
            _late.Add(new TimerRef(key, view.Index, w, w.End));
        }
        else if (w.Fired)
        {
            _counters.Late++;
        }

        MarkDirty(key);
    }

    private static void Take(ref AggregateCell cell, AggregationFunction function, double x, EventRecord e)
    {
        switch (function)
        {
            case AggregationFunction.Sum or AggregationFunction.Mean:
                cell.V = cell.N == 0 ? x : cell.V + x;
                break;
            case AggregationFunction.Min:
                cell.V = cell.N == 0 ? x : Math.Min(cell.V, x);
                break;
            case AggregationFunction.Max:
                cell.V = cell.N == 0 ? x : Math.Max(cell.V, x);
                break;
            case AggregationFunction.Last when cell.N == 0 || e.Time > cell.T || (e.Time == cell.T && e.Position > cell.P):
                cell.V = x;
                cell.T = e.Time;
                cell.P = e.Position;
                break;
        }

        cell.N++;
    }

    // The cap counts a key's windows still open by the partition's watermark: closed ones leave the
    // state at the next flush, whose timing depends on batches, and must not decide anything.
    private WindowState? Open(ViewProgram view, KeyState key, long start, long end, long watermark)
    {
        if (OpenBytes(key, watermark) + view.WindowBytes > _maxKeyBytes)
        {
            return null;
        }

        var w = new WindowState(start, end, view.Cells.Length, view.Sketches);
        Attach(key, view, w);
        Schedule(key, view, w);
        return w;
    }

    private long OpenBytes(KeyState key, long watermark)
    {
        long bytes = 0;
        for (int v = 0; v < _views.Length; v++)
        {
            if (key.Views[v] is not { } list)
            {
                continue;
            }

            foreach (var w in list)
            {
                bytes += IsClosed(_views[v], w.End, watermark) ? 0 : _views[v].WindowBytes;
            }
        }

        return bytes;
    }

    private void Attach(KeyState key, ViewProgram view, WindowState w)
    {
        (key.Views[view.Index] ??= []).Add(w);
        key.Windows++;
        key.Bytes += view.WindowBytes;
        StateBytes += view.WindowBytes;
        MarkDirty(key);
    }

    private void Schedule(KeyState key, ViewProgram view, WindowState w)
    {
        var t = new TimerRef(key, view.Index, w, w.End);
        if (!w.Fired)
        {
            _fire.Enqueue(t, w.End);
        }

        _close.Enqueue(t, w.End - 1 + view.AllowedLatenessMs);
    }

    private void Remove(KeyState key, int view, WindowState w)
    {
        key.Views[view]!.Remove(w);
        w.Gone = true;
        key.Windows--;
        key.Bytes -= _views[view].WindowBytes;
        StateBytes -= _views[view].WindowBytes;
        MarkDirty(key);
        if (key.Windows == 0 && _keys.TryGetValue(key.Key, out var held) && ReferenceEquals(held, key))
        {
            _keys.Remove(key.Key);
        }
    }

    private void MarkDirty(KeyState key)
    {
        if (!key.Dirty)
        {
            key.Dirty = true;
            _dirty.Add(key);
        }
    }

    private static string LateReason(ViewProgram view, long time, long watermark) => string.Create(
        CultureInfo.InvariantCulture,
        $"late: event time {time} is past every window's allowed lateness ({view.AllowedLatenessMs} ms) at the partition's watermark {watermark}");

    private enum Outcome
    {
        Taken,
        Late,
        Capped,
    }
}
