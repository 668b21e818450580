namespace LowLatency.Engine.Scheduling;

/// <summary>Why a batch is sent now.</summary>
internal enum SendReason : byte
{
    None,

    /// <summary>The batch cannot grow: <c>max_batch_size</c> reached, the next request does not fit or cannot join, or it passed the largest preferred size.</summary>
    Full,

    /// <summary>A preferred batch size is formed (before any window expired).</summary>
    Preferred,

    /// <summary>The earliest batching window of the requests in it expired.</summary>
    Window,

    /// <summary>The server is shutting down: queued requests go without waiting.</summary>
    Drain,
}
