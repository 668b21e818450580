namespace LowLatency.Features.Diagnostics;

/// <summary>What a near cache holds, read when metrics are collected.</summary>
public interface ICacheGauges
{
    long Bytes { get; }

    int Entries { get; }
}
