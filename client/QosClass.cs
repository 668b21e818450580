namespace LowLatency.Client;

/// <summary>The server's quality-of-service classes (request parameter <c>qos</c>): each with its own batching window and answer deadline.</summary>
public enum QosClass
{
    /// <summary><c>realtime</c>: the shortest window; past its deadline an answer is useless and the request is refused.</summary>
    Realtime = 1,

    /// <summary><c>balanced</c>.</summary>
    Balanced,

    /// <summary><c>throughput</c>: the longest window, the lowest priority.</summary>
    Throughput,
}
