namespace LowLatency.Features.Definitions;

/// <summary>
/// A stream view's window, in ms of event time: <see cref="SizeMs"/> (and <see cref="SlideMs"/> for a
/// sliding window; equal to the size for a tumbling one) aligned to the Unix epoch, or the inactivity
/// <see cref="GapMs"/> that closes a session window. A window is [start, end): an event at <c>end</c> belongs to the next one.
/// </summary>
public sealed record StreamWindow(StreamWindowKind Kind, long SizeMs, long SlideMs, long GapMs);
