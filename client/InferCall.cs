using System.Diagnostics;

namespace LowLatency.Client;

/// <summary>
/// One inference call as the encoders see it: what to run, with what, and when it must be done.
/// Also the request object the gRPC method's marshaller serializes (on every attempt).
/// </summary>
internal sealed class InferCall(string model, IReadOnlyList<InferInput> inputs, InferOptions options, long deadline)
{
    internal static readonly InferOptions NoOptions = new();

    public string Model { get; } = model;

    public IReadOnlyList<InferInput> Inputs { get; } = inputs;

    public InferOptions Options { get; } = options;

    /// <summary>When the call must be done, in <see cref="Stopwatch"/> ticks; 0 for never.</summary>
    public long Deadline { get; } = deadline;

    public bool HasDeadline => Deadline != 0;

    /// <summary>The time left, in whole microseconds (at least 1), for the server's <c>timeout</c> parameter.</summary>
    public long RemainingMicroseconds()
    {
        long ticks = Deadline - Stopwatch.GetTimestamp();
        return Math.Max(1, (long)(ticks * (1_000_000.0 / Stopwatch.Frequency)));
    }

    /// <summary>
    /// The server's <c>timeout</c> parameter, µs: the time left less a margin for the answer's way
    /// back and the server's timer slack (10 %, at least 1 ms or half of what is left, at most 1 s).
    /// A request that expires in the server's queue then comes back as the server's own refusal
    /// (504, "never ran", its connection kept) before the client's timer cancels the call, which
    /// over HTTP/1.1 would cost the connection.
    /// </summary>
    public long ServerTimeoutMicroseconds()
    {
        long left = RemainingMicroseconds();
        long margin = Math.Clamp(left / 10, Math.Min(left / 2, 1_000), 1_000_000);
        return Math.Max(1, left - margin);
    }

    /// <summary>The wire name of the QoS class, or empty.</summary>
    public ReadOnlySpan<byte> QosUtf8 => Options.Qos switch
    {
        QosClass.Realtime => "realtime"u8,
        QosClass.Balanced => "balanced"u8,
        QosClass.Throughput => "throughput"u8,
        _ => default,
    };
}
