using LowLatency.Engine.Diagnostics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LowLatency.Host.Diagnostics;

/// <summary>Tracing settings, bound from <c>LowLatency:Tracing</c>: off unless an OTLP endpoint is set.</summary>
public sealed class TracingOptions
{
    /// <summary>The OTLP collector, e.g. <c>http://otel-collector:4317</c> (gRPC) or <c>http://otel-collector:4318/v1/traces</c> (HTTP).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> (default) or <c>http</c> (HTTP/protobuf).</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>Share of requests traced (parent-based: a caller's sampled trace is always followed).</summary>
    public double SampleRatio { get; set; } = 1.0;

    /// <summary>How often batched spans are sent (ms).</summary>
    public int ExportDelayMilliseconds { get; set; } = 2000;
}

/// <summary>
/// OpenTelemetry tracing through OTLP: the engine's spans (per request: queue, execute; per batch,
/// linked to its requests) under ASP.NET Core's HTTP server spans. Without an endpoint nothing is
/// registered, no listener exists, and the engine's checks find tracing off.
/// </summary>
internal static class Tracing
{
    public static void Add(WebApplicationBuilder builder, TracingOptions options)
    {
        if (string.IsNullOrEmpty(options.OtlpEndpoint))
        {
            return;
        }

        if (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var endpoint) || options.SampleRatio is < 0 or > 1 || options.Protocol is not ("grpc" or "http"))
        {
            throw new StartupRefusedException("LowLatency:Tracing: OtlpEndpoint must be an absolute URL, Protocol grpc or http, SampleRatio within [0, 1]");
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("lowlatency"))
            .WithTracing(t => t
                .AddSource(EngineTracing.SourceName, "Microsoft.AspNetCore")
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SampleRatio)))
                .AddOtlpExporter(o =>
                {
                    o.Endpoint = endpoint;
                    o.Protocol = options.Protocol == "http" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                    o.BatchExportProcessorOptions.ScheduledDelayMilliseconds = options.ExportDelayMilliseconds;
                }));
    }
}
