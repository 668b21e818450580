namespace LowLatency.Host.Grpc;

/// <summary>Protocol Buffers' wire types: how a field's value is laid out after its tag.</summary>
internal static class WireType
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int Len = 2;
    public const int Fixed32 = 5;
}
