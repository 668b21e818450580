using System.Diagnostics.Metrics;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// What the HTTP side answered, including what never reached the engine (malformed bodies, unknown
/// models, 413, 415, 503 while loading or stopping): meter <c>LowLatency.Host</c>, counter
/// <c>responses</c> by model and status code. A model name that is not served is counted as
/// "unknown", so a client cannot grow the label set without bound.
/// </summary>
internal static class HostMetrics
{
    public const string MeterName = "LowLatency.Host";

    private static readonly Meter Meter = new(MeterName, "1.0");

    private static readonly Counter<long> Responses = Meter.CreateCounter<long>("responses", "{response}", "Inference responses by model and HTTP status code");

    public static void RecordResponse(string model, int statusCode) =>
        Responses.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("code", StatusText(statusCode)));

    // Boxed once per code, not per response.
    private static object StatusText(int code) => code switch
    {
        200 => "200",
        400 => "400",
        404 => "404",
        413 => "413",
        415 => "415",
        429 => "429",
        500 => "500",
        503 => "503",
        504 => "504",
        _ => "other",
    };
}
