using System.Globalization;

namespace LowLatency.Client;

/// <summary>
/// The server's own account of a request (its <c>Server-Timing</c> header over HTTP, the
/// <c>server-timing</c> trailer over gRPC): time waiting for a batch and a worker, time in the model,
/// and what the engine itself added. All zero and <see cref="IsPresent"/> false when not sent.
/// </summary>
public readonly struct ServerTiming
{
    /// <summary>The breakdown.</summary>
    /// <param name="queue">Waiting for a batch and a worker.</param>
    /// <param name="compute">The model.</param>
    /// <param name="overhead">The engine's own hand-offs.</param>
    public ServerTiming(TimeSpan queue, TimeSpan compute, TimeSpan overhead)
    {
        Queue = queue;
        Compute = compute;
        Overhead = overhead;
        IsPresent = true;
    }

    /// <summary>Whether the server sent a breakdown.</summary>
    public bool IsPresent { get; }

    /// <summary>Waiting for a batch and a worker.</summary>
    public TimeSpan Queue { get; }

    /// <summary>The model.</summary>
    public TimeSpan Compute { get; }

    /// <summary>The engine's own hand-offs.</summary>
    public TimeSpan Overhead { get; }

    /// <summary>The server's whole time for the request: queue, compute and overhead.</summary>
    public TimeSpan Total => Queue + Compute + Overhead;

    /// <inheritdoc/>
    public override string ToString() => IsPresent
        ? string.Create(CultureInfo.InvariantCulture, $"queue {Queue.TotalMicroseconds:F0} µs, compute {Compute.TotalMicroseconds:F0} µs, overhead {Overhead.TotalMicroseconds:F0} µs")
        : "none";

    /// <summary>
    /// Reads <c>queue;dur=0.012, compute;dur=0.034, overhead;dur=0.002</c> (milliseconds) without
    /// allocating; metrics it does not know are skipped. Default when none of the three is there.
    /// </summary>
    internal static ServerTiming Parse(ReadOnlySpan<char> header)
    {
        long queue = 0, compute = 0, overhead = 0;
        bool any = false;
        while (!header.IsEmpty)
        {
            int comma = header.IndexOf(',');
            var metric = (comma < 0 ? header : header[..comma]).Trim();
            header = comma < 0 ? default : header[(comma + 1)..];
            int semicolon = metric.IndexOf(';');
            if (semicolon < 0)
            {
                continue;
            }

            var name = metric[..semicolon].Trim();
            long ticks = Duration(metric[(semicolon + 1)..]);
            if (ticks < 0)
            {
                continue;
            }

            if (name.SequenceEqual("queue"))
            {
                queue = ticks;
            }
            else if (name.SequenceEqual("compute"))
            {
                compute = ticks;
            }
            else if (name.SequenceEqual("overhead"))
            {
                overhead = ticks;
            }
            else
            {
                continue;
            }

            any = true;
        }

        return any ? new ServerTiming(TimeSpan.FromTicks(queue), TimeSpan.FromTicks(compute), TimeSpan.FromTicks(overhead)) : default;
    }

    /// <summary>The <c>dur=</c> parameter among a metric's parameters, in ticks; -1 when there is none.</summary>
    private static long Duration(ReadOnlySpan<char> parameters)
    {
        while (!parameters.IsEmpty)
        {
            int semicolon = parameters.IndexOf(';');
            var p = (semicolon < 0 ? parameters : parameters[..semicolon]).Trim();
            parameters = semicolon < 0 ? default : parameters[(semicolon + 1)..];
            if (p.StartsWith("dur=", StringComparison.Ordinal) && double.TryParse(p[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) && ms >= 0)
            {
                return (long)Math.Round(ms * TimeSpan.TicksPerMillisecond);
            }
        }

        return -1;
    }
}
