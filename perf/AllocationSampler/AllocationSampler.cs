using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace LowLatency.AllocationSampler;

/// <summary>
/// Samples the runtime's AllocationTick events (one per ~100 KB allocated) by type, to say what the
/// allocated bytes per request are made of, and counts collections. In-process: no dotnet-trace
/// needed (this machine has none). Used by enginebench --alloc-trace and, as a startup hook, by any
/// process (<see cref="StartupHook"/>).
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private ConcurrentDictionary<string, long> _bytesByType = new();
    private long _collections;

    public IReadOnlyDictionary<string, long> BytesByType => _bytesByType;

    /// <summary>Hands out what was sampled since the last call and starts afresh.</summary>
    public (IReadOnlyDictionary<string, long> BytesByType, long Collections) Take() =>
        (Interlocked.Exchange(ref _bytesByType, new()), Interlocked.Exchange(ref _collections, 0));

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is null || e.Payload is null || e.PayloadNames is null)
        {
            return;
        }

        if (e.EventName.StartsWith("GCStart", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _collections);
            return;
        }

        if (e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal))
        {
            int typeIndex = e.PayloadNames.IndexOf("TypeName");
            int amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
            if (typeIndex >= 0 && amountIndex >= 0)
            {
                long amount = Convert.ToInt64(e.Payload[amountIndex]!, CultureInfo.InvariantCulture);
                _bytesByType.AddOrUpdate((string)e.Payload[typeIndex]!, amount, (_, v) => v + amount);
            }
        }
    }
}
