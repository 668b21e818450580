namespace LowLatency.Streams.Diagnostics;

/// <summary>What a running processor reports per owned partition, read when a listener collects the gauges.</summary>
public interface IPartitionGauges
{
    /// <summary>Per owned partition: its watermark's lag behind the wall clock (ms), its consumer lag (entries; -1 unknown), keys and state bytes.</summary>
    IReadOnlyList<(int Partition, long WatermarkLagMs, long ConsumerLag, long Keys, long StateBytes)> Partitions();
}
