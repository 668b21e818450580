namespace LowLatency.Streams.Events;

/// <summary>
/// Where an entry lies in its partition, in the partition's order (a Redis stream ID's two parts;
/// a Kafka offset would be <see cref="Major"/> with a zero <see cref="Minor"/>). It breaks ties of event
/// time (the last value is the later entry's), so it must be the order the partition holds.
/// </summary>
public readonly record struct StreamPosition(ulong Major, ulong Minor) : IComparable<StreamPosition>
{
    public int CompareTo(StreamPosition other) => Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    public static bool operator <(StreamPosition left, StreamPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(StreamPosition left, StreamPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(StreamPosition left, StreamPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(StreamPosition left, StreamPosition right) => left.CompareTo(right) >= 0;
}
