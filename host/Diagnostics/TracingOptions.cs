namespace LowLatency.Host.Diagnostics;

/// <summary>Tracing settings, bound from <c>LowLatency:Tracing</c>: off unless an OTLP endpoint is set.</summary>
internal sealed class TracingOptions
{
    /// <summary>The OTLP collector, e.g. <c>http://otel-collector:4317</c> (gRPC) or <c>http://otel-collector:4318/v1/traces</c> (HTTP).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> (default) or <c>http</c> (HTTP/protobuf).</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>Share of requests traced (parent-based: a caller's sampled trace is always followed).</summary>
    public double SampleRatio { get; set; } = 1.0;

    /// <summary>How often batched spans are sent (ms).</summary>
    public int ExportDelayMilliseconds { get; set; } = 2000;

    public bool Enabled => !string.IsNullOrEmpty(OtlpEndpoint);

    /// <summary>What is wrong with these settings, naming them (empty when nothing is, and when tracing is off).</summary>
    public IEnumerable<string> Problems()
    {
        if (Enabled && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _) || SampleRatio is < 0 or > 1 || Protocol is not ("grpc" or "http")))
        {
            yield return "LowLatency:Tracing: OtlpEndpoint must be an absolute URL, Protocol grpc or http, SampleRatio within [0, 1]";
        }
    }
}
