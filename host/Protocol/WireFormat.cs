namespace LowLatency.Host.Protocol;

/// <summary>The two encodings of the Open Inference Protocol this server speaks.</summary>
internal enum WireFormat
{
    Json,
    MsgPack,
}
