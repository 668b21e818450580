using TorchSharp;

namespace LowLatency.Engine.Config;

/// <summary>
/// The tensor element types the server accepts: the Open Inference Protocol's numeric types, and
/// <see cref="Bytes"/> for the ids of a STRING entity (a request input only: libtorch has no string
/// tensors, so no model input or output is BYTES).
/// </summary>
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

    /// <summary>Variable-length byte strings, held at a fixed stride per element (<see cref="TensorConfig.ElementSize"/>).</summary>
    Bytes,
}
