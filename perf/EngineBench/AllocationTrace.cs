using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace LowLatency.EngineBench;

/// <summary>
/// Samples the runtime's AllocationTick events (one per ~100 KB allocated) by type, to say what the
/// allocated bytes per request are made of. Enabled with --alloc-trace.
/// </summary>
internal sealed class AllocationTrace : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytesByType = new();

    public IReadOnlyDictionary<string, long> BytesByType => _bytesByType;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not null && e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) && e.Payload is not null && e.PayloadNames is not null)
        {
            int typeIndex = e.PayloadNames.IndexOf("TypeName");
            int amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
            if (typeIndex >= 0 && amountIndex >= 0)
            {
                _bytesByType.AddOrUpdate((string)e.Payload[typeIndex]!, Convert.ToInt64(e.Payload[amountIndex]!, System.Globalization.CultureInfo.InvariantCulture), (_, v) => v + Convert.ToInt64(e.Payload[amountIndex]!, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
