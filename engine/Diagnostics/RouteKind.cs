namespace LowLatency.Engine.Diagnostics;

/// <summary>How a request reached its version (a metric label).</summary>
public enum RouteKind
{
    /// <summary>The URL named the version.</summary>
    Version,

    /// <summary>The traffic split, without a routing key.</summary>
    Split,

    /// <summary>The traffic split, by the request's routing key.</summary>
    Key,

    /// <summary>No version was healthy: another model answered.</summary>
    FallbackModel,

    /// <summary>No version was healthy: the model's fixed answer.</summary>
    FallbackResponse,
}
