namespace LowLatency.Engine.Config;

/// <summary>How a field of a <c>config.pbtxt</c> becomes JSON: one value, an array, or a map's object.</summary>
internal enum TextFormatFieldShape
{
    Single,
    Repeated,
    Map,
}
