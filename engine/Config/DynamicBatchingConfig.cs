namespace LowLatency.Engine.Config;

public sealed record DynamicBatchingConfig(
    IReadOnlyList<int> PreferredBatchSize,
    long MaxQueueDelayMicroseconds,
    bool PreserveOrdering,
    int PriorityLevels,
    int DefaultPriorityLevel,
    QueuePolicyConfig DefaultQueuePolicy,
    IReadOnlyDictionary<int, QueuePolicyConfig> PriorityQueuePolicy);
