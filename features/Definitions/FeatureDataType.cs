namespace LowLatency.Features.Definitions;

/// <summary>
/// A feature's element type. The names and order are the Open Inference Protocol's tensor datatypes
/// (and the engine's), because feature values end up in model input tensors: a view row is packed
/// little-endian exactly as the tensor would hold it.
/// </summary>
public enum FeatureDataType : byte
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
