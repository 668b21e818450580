namespace LowLatency.Join;

/// <summary>
/// What a join took and found: its time in µs (Server-Timing's <c>features</c>), and, when any row
/// of a view was not PRESENT, the statuses per view and row (the answer's <c>feature_statuses</c>
/// parameter, <c>view:STATUS,STATUS,...;view:...</c>); null when every row was present.
/// </summary>
public readonly record struct JoinResult(long Microseconds, string? Statuses);
