using TorchSharp;

namespace LowLatency.Engine.Config;

/// <summary>The tensor element types the server accepts: the Open Inference Protocol's numeric types.</summary>
public enum TensorDataType : byte
{
    Bool,
    UInt8,
    Int8,
    Int16,
    Int32,
    Int64,
    FP16,
    BF16,
    FP32,
    FP64,
}
