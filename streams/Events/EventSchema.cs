using System.Text;
using LowLatency.Features.Definitions;

namespace LowLatency.Streams.Events;

/// <summary>
/// The event fields and filters a source's views use, each given a slot once, so that reading an
/// entry compares its field names with a handful of byte strings and fills arrays by slot.
/// </summary>
public sealed class EventSchema
{
    /// <summary>The field of a producer's watermark heartbeat entry: its value is an event time, ms.</summary>
    public const string HeartbeatField = "_wm";

    private readonly Dictionary<string, int> _fields = new(StringComparer.Ordinal);
    private readonly Dictionary<EventFilter, int> _filters = [];
    private readonly List<string> _fieldNames = [];
    private readonly List<EventFilter> _filterList = [];

    public EventSchema(StreamSource source)
    {
        Source = source;
        KeyField = Encoding.UTF8.GetBytes(source.KeyField);
        TimestampField = Encoding.UTF8.GetBytes(source.TimestampField);
        HeartbeatFieldBytes = Encoding.UTF8.GetBytes(HeartbeatField);
        foreach (var view in source.Views)
        {
            foreach (var f in view.Features)
            {
                if (f.Aggregation is { } a)
                {
                    if (a.Field is not null)
                    {
                        FieldSlot(a.Field);
                    }

                    if (a.Where is { } w)
                    {
                        FilterSlot(w);
                    }
                }
            }
        }

        FieldNames = _fieldNames.Select(Encoding.UTF8.GetBytes).ToArray();
        FilterValues = _filterList.Select(f => Encoding.UTF8.GetBytes(f.EqualsValue)).ToArray();
        FilterFields = _filterList.Select(f => _fields[f.Field]).ToArray();
    }

    public StreamSource Source { get; }

    public bool StringKeys => Source.Views.Count > 0 && Source.Views[0].Entity.ValueType == EntityValueType.String;

    public byte[] KeyField { get; }

    public byte[] TimestampField { get; }

    public byte[] HeartbeatFieldBytes { get; }

    public IReadOnlyList<string> Fields => _fieldNames;

    public byte[][] FieldNames { get; }

    public IReadOnlyList<EventFilter> Filters => _filterList;

    /// <summary>Each filter's field slot and the bytes it must equal.</summary>
    public int[] FilterFields { get; }

    public byte[][] FilterValues { get; }

    public int Field(string name) => _fields[name];

    public int Filter(EventFilter filter) => _filters[filter];

    private void FieldSlot(string name)
    {
        if (_fields.TryAdd(name, _fieldNames.Count))
        {
            _fieldNames.Add(name);
        }
    }

    private void FilterSlot(EventFilter filter)
    {
        FieldSlot(filter.Field);
        if (_filters.TryAdd(filter, _filterList.Count))
        {
            _filterList.Add(filter);
        }
    }
}
