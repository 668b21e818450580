using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Features.Serving;

/// <summary>Feast's status names, and the status of a row read from the store.</summary>
public static class FieldStatuses
{
    private static readonly string[] Names = ["INVALID", "PRESENT", "NULL_VALUE", "NOT_FOUND", "OUTSIDE_MAX_AGE"];

    /// <summary>Feast's name: <c>PRESENT</c>, <c>NOT_FOUND</c>, <c>OUTSIDE_MAX_AGE</c>.</summary>
    public static string Name(this FieldStatus status) => Names[(int)status];

    /// <summary>
    /// What a read row's values are at <paramref name="nowMicros"/> (µs since the Unix epoch): present,
    /// outside the view's max age (its TTL, counted from the row's event time; none when 0), or not found.
    /// </summary>
    public static FieldStatus Of(in RowRead row, long nowMicros) => Of(row.State, row.EventTimeMicros, row.View, nowMicros);

    public static FieldStatus Of(RowState state, long eventTimeMicros, FeatureView view, long nowMicros) => state switch
    {
        RowState.Found when view.Ttl > TimeSpan.Zero && eventTimeMicros < nowMicros - (long)view.Ttl.TotalMicroseconds => FieldStatus.OutsideMaxAge,
        RowState.Found => FieldStatus.Present,
        RowState.NotFound => FieldStatus.NotFound,
        _ => FieldStatus.Invalid,
    };
}
