namespace LowLatency.Streams.Windows;

/// <summary>A window's place in a timer queue; stale once the window is gone or its end moved (a session that grew), and then skipped.</summary>
public readonly record struct TimerRef(KeyState Key, int View, WindowState Window, long End);
