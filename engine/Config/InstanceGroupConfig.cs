namespace LowLatency.Engine.Config;

public sealed record InstanceGroupConfig(string? Name, int Count, InstanceKind Kind);
