namespace LowLatency.Features.Definitions;

/// <summary>Feast's <c>redis_type</c>: <c>redis</c>, one server (or a primary with replicas), or <c>redis_cluster</c>.</summary>
public enum RedisTopology : byte
{
    Standalone,
    Cluster,
}
