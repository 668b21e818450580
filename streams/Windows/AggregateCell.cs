using LowLatency.Streams.Events;

namespace LowLatency.Streams.Windows;

/// <summary>
/// One aggregated feature's running value in one window: <see cref="N"/> events counted, <see cref="V"/>
/// the sum, minimum, maximum or last value, and for the last value its event time and position
/// (the later entry wins a tie). A struct in the window's array: updating it allocates nothing.
/// </summary>
public struct AggregateCell
{
    public long N;
    public double V;
    public long T;
    public StreamPosition P;
}
