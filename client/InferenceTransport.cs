namespace LowLatency.Client;

/// <summary>How an <see cref="InferenceClient"/> reaches the server.</summary>
public enum InferenceTransport
{
    /// <summary>HTTP/1.1 (or the <see cref="InferenceClientOptions.HttpVersion"/> chosen), the REST routes <c>/v2/...</c>.</summary>
    Http = 1,

    /// <summary>gRPC over HTTP/2, Triton's <c>inference.GRPCInferenceService</c> (by default on port 8001).</summary>
    Grpc,
}
