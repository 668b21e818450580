namespace LowLatency.Features.Serving;

/// <summary>
/// The body of Feast's <c>POST /push</c>: a push source, rows as columns (<c>df</c>: the join keys,
/// the source's timestamp field and every feature of every view the source writes), and where to
/// (<c>to</c>; only <c>online</c> here). Event times are DateTimeOffset, DateTime (UTC) or ISO 8601 text.
/// </summary>
public sealed class PushRequest
{
    public required string PushSourceName { get; init; }

    public required IReadOnlyDictionary<string, IReadOnlyList<object?>> Df { get; init; }

    public string To { get; init; } = "online";
}
