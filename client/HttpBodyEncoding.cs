namespace LowLatency.Client;

/// <summary>How the HTTP transport encodes inference requests and answers.</summary>
public enum HttpBodyEncoding
{
    /// <summary>MessagePack (<c>application/msgpack</c>): the JSON document's keys, each tensor a bin of its raw bytes. The fastest.</summary>
    MessagePack = 1,

    /// <summary>
    /// Triton's binary tensor extension: a JSON document followed by the raw tensors, outputs asked
    /// for as binary too (what tritonclient sends), for servers that speak no MessagePack.
    /// </summary>
    JsonBinary,
}
