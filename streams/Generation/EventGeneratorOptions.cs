namespace LowLatency.Streams.Generation;

/// <summary>The synthetic event log's shape (<c>build.ps1 events</c> takes each as <c>--name value</c>).</summary>
public sealed class EventGeneratorOptions
{
    /// <summary>Events to generate.</summary>
    public long Count { get; set; } = 100_000;

    /// <summary>Events per second appended, paced on the wall clock; 0: as fast as the server takes them.</summary>
    public double Rate { get; set; }

    /// <summary>Distinct users (keys).</summary>
    public int Keys { get; set; } = 10_000;

    /// <summary>Zipf exponent of the key popularity: 0 uniform, 1 a few hot users.</summary>
    public double Skew { get; set; } = 0.8;

    /// <summary>Event time of the first event (ms since the epoch); 0: now.</summary>
    public long StartMs { get; set; }

    /// <summary>Event time between consecutive events, ms; 0: the wall clock at append (with <see cref="Rate"/>).</summary>
    public double StepMs { get; set; } = 1;

    /// <summary>Fraction of events whose time is moved back by up to <see cref="DisorderMs"/> (within the watermark delay: still on time).</summary>
    public double OutOfOrder { get; set; } = 0.1;

    public long DisorderMs { get; set; } = 1000;

    /// <summary>Fraction of events moved back by <see cref="LateMs"/> plus up to as much again: behind the watermark (late, or too late).</summary>
    public double Late { get; set; } = 0.01;

    public long LateMs { get; set; } = 5000;

    /// <summary>Clicks per impression.</summary>
    public double ClickRate { get; set; } = 0.05;

    public int Items { get; set; } = 1000;

    public int Seed { get; set; } = 42;
}
