using System.Collections.Concurrent;
using System.Diagnostics;
using LowLatency.Engine.Requests;
using Prometheus;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// One (model, version)'s cumulative statistics since the server started, in Triton's statistics
/// extension's terms (<c>GET /v2/models/.../stats</c>; perf_analyzer reads them around each of its
/// measurement windows). Most of it is read from the Prometheus children the request path already
/// feeds (requests by outcome, queue and compute histograms, batch rows); what they lack is kept
/// here: the successful and failed requests' durations apart, the last request's time, and each
/// batch size's executions and compute time. That is one atomic add and one store a request and
/// two atomic adds a batch, on the thread pool, where the request is published.
/// </summary>
/// <param name="outcomes">The requests counter's children, indexed by <see cref="InferenceStatus"/>.</param>
internal sealed class ModelStatistics(string model, string version, Counter.Child[] outcomes, Histogram.Child queue, Histogram.Child compute, Histogram.Child batchRows)
{
    // Batch sizes up to this index are counted in arrays; larger ones (rare: a max_batch_size over
    // 256) in a dictionary.
    private const int ArrayBatchSizes = 256;

    private static readonly ConcurrentDictionary<(string Model, string Version), ModelStatistics> All = new();

    private readonly long[] _batchCount = new long[ArrayBatchSizes + 1];
    private readonly long[] _batchComputeUs = new long[ArrayBatchSizes + 1];
    private readonly ConcurrentDictionary<int, long[]> _largeBatches = new();
    private long _successUs;
    private long _failUs;
    private long _lastTimestamp;

    public string Model { get; } = model;

    public string Version { get; } = version;

    /// <summary>Registered once per (model, version): the same series, whichever engine or reload records into it.</summary>
    public static ModelStatistics Register(ModelStatistics statistics) => All.GetOrAdd((statistics.Model, statistics.Version), statistics);

    /// <summary>The statistics of a (model, version) that has recorded anything; null for one that has not.</summary>
    public static ModelStatistics? Of(string model, string version) => All.GetValueOrDefault((model, version));

    public void OnRequest(InferenceStatus status, long durationUs)
    {
        Interlocked.Add(ref (status == InferenceStatus.Ok ? ref _successUs : ref _failUs), durationUs);
        Volatile.Write(ref _lastTimestamp, Stopwatch.GetTimestamp());
    }

    public void OnBatch(int rows, long computeUs)
    {
        if ((uint)rows <= ArrayBatchSizes)
        {
            Interlocked.Increment(ref _batchCount[rows]);
            Interlocked.Add(ref _batchComputeUs[rows], computeUs);
            return;
        }

        OnLargeBatch(rows, computeUs);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void OnLargeBatch(int rows, long computeUs)
    {
        var slot = _largeBatches.GetOrAdd(rows, static _ => new long[2]);
        Interlocked.Increment(ref slot[0]);
        Interlocked.Add(ref slot[1], computeUs);
    }

    /// <summary>A consistent-enough copy for one answer: each counter is read once, without stopping the recorders.</summary>
    public Snapshot Read()
    {
        long failed = 0;
        foreach (var o in outcomes)
        {
            failed += (long)o.Value;
        }

        long succeeded = (long)outcomes[(int)InferenceStatus.Ok].Value;
        failed -= succeeded;
        var batches = new List<BatchSnapshot>();
        for (int size = 1; size <= ArrayBatchSizes; size++)
        {
            long n = Volatile.Read(ref _batchCount[size]);
            if (n != 0)
            {
                batches.Add(new BatchSnapshot(size, n, Volatile.Read(ref _batchComputeUs[size])));
            }
        }

        foreach (var (size, slot) in _largeBatches.OrderBy(kv => kv.Key))
        {
            batches.Add(new BatchSnapshot(size, Volatile.Read(ref slot[0]), Volatile.Read(ref slot[1])));
        }

        long last = Volatile.Read(ref _lastTimestamp);
        long lastMs = last == 0 ? 0 : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (long)Stopwatch.GetElapsedTime(last).TotalMilliseconds;
        return new Snapshot(
            lastMs,
            (long)batchRows.Sum,
            batchRows.Count,
            succeeded,
            Volatile.Read(ref _successUs),
            failed,
            Volatile.Read(ref _failUs),
            queue.Count,
            (long)queue.Sum,
            compute.Count,
            (long)compute.Sum,
            batches);
    }

    /// <param name="LastInferenceMs">Milliseconds since the epoch; 0 before the first request.</param>
    /// <param name="InferenceCount">Rows the model ran (a request of 8 rows counts 8).</param>
    /// <param name="ExecutionCount">Batches the model ran.</param>
    public sealed record Snapshot(long LastInferenceMs, long InferenceCount, long ExecutionCount, long SuccessCount, long SuccessUs, long FailCount, long FailUs, long QueueCount, long QueueUs, long ComputeCount, long ComputeUs, List<BatchSnapshot> Batches);

    public sealed record BatchSnapshot(int Size, long Count, long ComputeUs);
}
