namespace LowLatency.Features.Definitions;

/// <summary>
/// What makes a feature view a stream view: the source whose events it aggregates, the window, and
/// how long after the watermark passes a window's end the window still takes late events
/// (<see cref="AllowedLatenessMs"/>; each one replaces the stored value). Every feature of such a
/// view has an <see cref="FeatureDefinition.Aggregation"/> or is <see cref="FeatureDefinition.Derived"/>.
/// </summary>
public sealed record StreamDefinition(StreamSource Source, StreamWindow Window, long AllowedLatenessMs);
