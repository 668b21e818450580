using LowLatency.Engine.Diagnostics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LowLatency.Host.Diagnostics;

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
