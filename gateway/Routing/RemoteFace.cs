namespace LowLatency.Gateway.Routing;

/// <summary>How the face that routes a request can reach a remote backend, if at all.</summary>
public enum RemoteFace : byte
{
    /// <summary>It cannot forward: remote backends are passed over.</summary>
    None,

    /// <summary>REST: the body is forwarded over HTTP to the backend's <c>url</c>.</summary>
    Http,

    /// <summary>gRPC: the message is forwarded to the backend's <c>grpc_url</c>; a remote backend without one is passed over.</summary>
    Grpc,
}
