namespace LowLatency.MicroBench;

/// <summary>
/// The most managed bytes one operation of a benchmark may allocate; <c>build.ps1 microbench</c>
/// fails when MemoryDiagnoser measures more (as Garnet checks its benchmarks' allocations in CI).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class AllocationBudgetAttribute(long bytesPerOperation, string why) : Attribute
{
    public long BytesPerOperation { get; } = bytesPerOperation;

    public string Why { get; } = why;
}
