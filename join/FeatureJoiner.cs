using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Features.Serving;
using LowLatency.Features.Store;

namespace LowLatency.Join;

/// <summary>
/// Feature-joined inference: a request carries entity ids; the joiner reads each view's rows for
/// them (near cache, else one store round trip) and writes every row's features straight into the
/// request's own input buffers, defaults where a row is missing, too old or not fetched in time.
/// A join served from the near cache completes synchronously and allocates nothing.
/// </summary>
public sealed class FeatureJoiner
{
    private readonly JoinPlans _plans;
    private readonly IOnlineStore _store;
    private readonly TimeProvider _time;
    private readonly IdStrings _ids = new();

    public FeatureJoiner(JoinPlans plans, IOnlineStore store, TimeProvider? time = null)
    {
        _plans = plans;
        _store = store;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Fills the joined inputs of <paramref name="request"/>, whose entity inputs are decoded, and
    /// counts the time taken against its deadlines. Throws <see cref="InferenceException"/> for
    /// missing entity ids and for a required feature that is not present.
    /// </summary>
    public ValueTask<JoinResult> JoinAsync(InferenceRequest request)
    {
        var config = request.Config;
        if (config.Features is null)
        {
            return default;
        }

        long start = Stopwatch.GetTimestamp();
        var pool = _plans.For(config);
        int rows = request.EntityRows();
        var scratch = pool.Rent();
        ValueTask pending;
        int reads;
        long budget = BudgetMicroseconds(request);
        try
        {
            reads = Prepare(pool.Plan, scratch, request, rows, _ids);
            // Without a budget the store's own read timeout bounds the read: no cancellation to wire.
            pending = _store.ReadAsync(scratch.Reads.AsMemory(0, reads), budget > 0 ? scratch.Deadline.Token : default);
        }
        catch
        {
            pool.Return(scratch);
            throw;
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return WaitAsync(pending, pool, scratch, request, rows, reads, start, budget);
        }

        try
        {
            return new(Finish(pool.Plan, scratch, request, rows, reads, start));
        }
        finally
        {
            pool.Return(scratch);
        }
    }

    // One read per view and distinct run of ids: a ranking request repeats its user on every row.
    private static int Prepare(JoinPlan plan, JoinScratch scratch, InferenceRequest request, int rows, IdStrings strings)
    {
        int max = plan.Config.MaxBatchSize, n = 0;
        var views = plan.Views;
        for (int v = 0; v < views.Length; v++)
        {
            var view = views[v];
            var ids = request.InputData(view.EntityInput);
            if (view.IdStride > 0)
            {
                n = PrepareStrings(view, v, max, scratch, ids, rows, n, strings);
                continue;
            }

            int rowBytes = view.View.RowBytes, region = view.ScratchOffset * max, k = 0;
            long previous = 0;
            for (int b = 0; b < rows; b++)
            {
                long id = Id(ids, b);
                if (b > 0 && id == previous)
                {
                    scratch.ReadOf[(v * max) + b] = n - 1;
                    continue;
                }

                previous = id;
                scratch.Reads[n] = new RowRead(view.View, EntityKey.Of(id), scratch.Values.AsMemory(region + (k++ * rowBytes), rowBytes));
                scratch.ReadOf[(v * max) + b] = n++;
            }
        }

        return n;
    }

    // STRING ids: a BYTES input, always in the request's own buffer (one segment), compared as bytes.
    private static int PrepareStrings(ViewRead view, int v, int max, JoinScratch scratch, in ReadOnlySequence<byte> ids, int rows, int n, IdStrings strings)
    {
        var all = ids.FirstSpan;
        int rowBytes = view.View.RowBytes, region = view.ScratchOffset * max, k = 0;
        ReadOnlySpan<byte> previous = default;
        for (int b = 0; b < rows; b++)
        {
            var id = BytesElements.Element(all, b, view.IdStride);
            if (b > 0 && id.SequenceEqual(previous))
            {
                scratch.ReadOf[(v * max) + b] = n - 1;
                continue;
            }

            previous = id;
            scratch.Reads[n] = new RowRead(view.View, EntityKey.Of(strings.Get(id)), scratch.Values.AsMemory(region + (k++ * rowBytes), rowBytes));
            scratch.ReadOf[(v * max) + b] = n++;
        }

        return n;
    }

    private static long Id(in ReadOnlySequence<byte> ids, int row)
    {
        if (ids.IsSingleSegment)
        {
            return BinaryPrimitives.ReadInt64LittleEndian(ids.FirstSpan[(row * sizeof(long))..]);
        }

        Span<byte> one = stackalloc byte[sizeof(long)];
        ids.Slice(row * sizeof(long), sizeof(long)).CopyTo(one);
        return BinaryPrimitives.ReadInt64LittleEndian(one);
    }

    private async ValueTask<JoinResult> WaitAsync(ValueTask pending, ScratchPool pool, JoinScratch scratch, InferenceRequest request, int rows, int reads, long start, long budget)
    {
        if (budget > 0)
        {
            long left = budget - (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            scratch.Deadline.CancelAfter(TimeSpan.FromMicroseconds(Math.Max(0, left)));
        }

        bool whole = true;
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Out of time, or the store failed: the rows not read stay Pending and count as
            // unavailable. A read abandoned mid-way may still write its rows: the scratch is dropped.
            whole = false;
        }

        try
        {
            return Finish(pool.Plan, scratch, request, rows, reads, start);
        }
        finally
        {
            if (whole)
            {
                scratch.ResetDeadline();
                pool.Return(scratch);
            }
        }
    }

    // Half the tightest deadline the request has (its QoS class's, the client's, its own timeout):
    // the other half is the model's. None, or one past a minute (the longest read timeout a store
    // may have, which bounds the read anyway): 0.
    private static long BudgetMicroseconds(InferenceRequest request)
    {
        long tightest = Tightest(Tightest(request.Qos == QosClass.None ? 0 : request.Config.Qos.For(request.Qos).DeadlineMicroseconds, request.DeadlineMicroseconds), request.TimeoutMicroseconds);
        long half = tightest / 2;
        return half < MaxBudgetMicroseconds ? half : 0;
    }

    private const long MaxBudgetMicroseconds = 60_000_000;

    private static long Tightest(long a, long b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    private JoinResult Finish(JoinPlan plan, JoinScratch scratch, InferenceRequest request, int rows, int reads, long start)
    {
        bool allPresent = true;
        long now = 0;
        var statuses = scratch.Statuses;
        for (int n = 0; n < reads; n++)
        {
            ref var read = ref scratch.Reads[n];
            var status = read.State switch
            {
                RowState.Found when read.View.Ttl > TimeSpan.Zero => FieldStatuses.Of(read.State, read.EventTimeMicros, read.View, now = now == 0 ? EventTime.ToMicros(_time.GetUtcNow()) : now),
                RowState.Found => FieldStatus.Present,
                RowState.NotFound => FieldStatus.NotFound,
                _ => FieldStatus.Invalid,
            };
            statuses[n] = status;
            allPresent &= status == FieldStatus.Present;
        }

        if (!allPresent)
        {
            CheckRequired(plan, scratch, request, rows);
        }

        int max = plan.Config.MaxBatchSize;
        foreach (var input in plan.Inputs)
        {
            var dst = request.JoinedInput(input.Input, rows);
            for (int b = 0; b < rows; b++)
            {
                var row = dst.Slice(b * input.RowBytes, input.RowBytes);
                foreach (var copy in input.Copies)
                {
                    int n = scratch.ReadOf[(copy.View * max) + b];
                    var src = statuses[n] == FieldStatus.Present ? scratch.Reads[n].Destination.Span : plan.Views[copy.View].View.DefaultRow.Span;
                    src.Slice(copy.From, copy.Length).CopyTo(row[copy.To..]);
                }
            }
        }

        // Rounded up: a join served from the near cache can take under 1 µs, and Server-Timing
        // tells a join from none by a time above 0.
        long micros = (long)Math.Ceiling(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        request.PrecedingMicroseconds = micros;
        return new JoinResult(micros, allPresent ? null : JoinReport.Statuses(plan, scratch, rows));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CheckRequired(JoinPlan plan, JoinScratch scratch, InferenceRequest request, int rows)
    {
        int max = plan.Config.MaxBatchSize;
        for (int v = 0; v < plan.Views.Length; v++)
        {
            var view = plan.Views[v];
            if (!view.Required)
            {
                continue;
            }

            for (int b = 0; b < rows; b++)
            {
                int n = scratch.ReadOf[(v * max) + b];
                var status = scratch.Statuses[n];
                if (status != FieldStatus.Present)
                {
                    var key = request.Config.InputSpec(view.EntityInput).Name;
                    throw new InferenceException(
                        status == FieldStatus.Invalid ? InferenceStatus.Unavailable : InferenceStatus.BadRequest,
                        $"model '{request.Config.Name}' requires the features of view '{view.View.Name}', and row {b} ({key} {scratch.Reads[n].Entity}) is {JoinReport.Name(status)}");
                }
            }
        }
    }
}
