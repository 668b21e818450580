using Inference;
using LowLatency.Engine.Serving;

namespace LowLatency.Host.Grpc;

/// <summary>A version's statistics as gRPC's <c>ModelStatistics</c>: the numbers <c>GET .../stats</c> writes, from the same snapshot.</summary>
internal static class GrpcStatistics
{
    public static Inference.ModelStatistics Of(ModelVersion v)
    {
        var s = Diagnostics.ModelStatistics.Of(v.Config.Name, v.VersionString)?.Read();
        var stats = new Inference.ModelStatistics
        {
            Name = v.Config.Name,
            Version = v.VersionString,
            LastInference = (ulong)(s?.LastInferenceMs ?? 0),
            InferenceCount = (ulong)(s?.InferenceCount ?? 0),
            ExecutionCount = (ulong)(s?.ExecutionCount ?? 0),
            InferenceStats = new InferStatistics
            {
                Success = Duration(s?.SuccessCount ?? 0, s?.SuccessUs ?? 0),
                Fail = Duration(s?.FailCount ?? 0, s?.FailUs ?? 0),
                Queue = Duration(s?.QueueCount ?? 0, s?.QueueUs ?? 0),
                // As on REST: the input copy and the outputs' views are inside compute_infer.
                ComputeInput = Duration(s?.ComputeCount ?? 0, 0),
                ComputeInfer = Duration(s?.ComputeCount ?? 0, s?.ComputeUs ?? 0),
                ComputeOutput = Duration(s?.ComputeCount ?? 0, 0),
                CacheHit = Duration(0, 0),
                CacheMiss = Duration(0, 0),
            },
        };
        foreach (var b in s?.Batches ?? [])
        {
            stats.BatchStats.Add(new InferBatchStatistics
            {
                BatchSize = (ulong)b.Size,
                ComputeInput = Duration(b.Count, 0),
                ComputeInfer = Duration(b.Count, b.ComputeUs),
                ComputeOutput = Duration(b.Count, 0),
            });
        }

        return stats;
    }

    private static StatisticDuration Duration(long count, long us) => new() { Count = (ulong)count, Ns = (ulong)us * 1000 };
}
