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
    /// <param name="options">Valid settings: the server refuses to start on any of their <see cref="TracingOptions.Problems"/>.</param>
    public static void Add(WebApplicationBuilder builder, TracingOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }

        if (options.Problems().FirstOrDefault() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        var endpoint = new Uri(options.OtlpEndpoint!, UriKind.Absolute);
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
