namespace LowLatency.Features.Definitions;

/// <summary>The type of an entity's join key, as Feast's <c>ValueType</c> names it.</summary>
public enum EntityValueType : byte
{
    Int64,
    String,
}
