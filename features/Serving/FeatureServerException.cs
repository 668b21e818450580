namespace LowLatency.Features.Serving;

/// <summary>A refused feature-server operation: its kind maps to an HTTP status, its message says what is wrong.</summary>
public sealed class FeatureServerException(FeatureErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public FeatureErrorKind Kind { get; } = kind;
}
