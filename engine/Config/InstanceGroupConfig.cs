namespace LowLatency.Engine.Config;

/// <param name="Cores">
/// This server's <c>cores</c> field of an <c>instance_group</c> entry: the CPU cores its instances
/// are pinned to, each instance taking its own share in turn (see <c>EngineThreading.CoresOf</c>);
/// empty: the engine-wide <c>WorkerCores</c>, or no pinning.
/// </param>
public sealed record InstanceGroupConfig(string? Name, int Count, InstanceKind Kind)
{
    public IReadOnlyList<int> Cores { get; init; } = [];
}
