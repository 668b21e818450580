namespace LowLatency.Streams.Generation;

/// <summary>One synthetic event: a user saw (impression) or clicked an item at an event time, and spent dwell_ms on it.</summary>
public readonly record struct GeneratedEvent(long UserId, long TimeMs, bool Click, long ItemId, long DwellMs);
