namespace LowLatency.Engine.Config;

/// <summary>What a token of protobuf's text format is.</summary>
internal enum TextFormatTokenKind
{
    End,
    Identifier,
    Number,
    String,
    Symbol,
}
