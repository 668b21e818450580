using System.Collections.Concurrent;
using LowLatency.Gateway;
using Prometheus;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// The gateway's weight tables as Prometheus series, by alias and backend, set from the tables
/// just before each scrape (nothing on the request path): <c>lowlatency_gateway_backend_weight</c>,
/// <c>_base_weight</c>, <c>_latency_us</c> (EWMA), <c>_error_rate</c> (over the window),
/// <c>_state</c> (0 closed, 1 open, 2 half-open, 3 recovering), <c>_answers_total</c> and
/// <c>_errors_total</c>. Series of an alias or backend that a reload removed are dropped.
/// </summary>
internal static class GatewayMetrics
{
    private static readonly string[] Labels = ["alias", "backend"];
    private static readonly Gauge Weight = Metrics.CreateGauge("lowlatency_gateway_backend_weight", "The backend's current weight in its alias.", Labels);
    private static readonly Gauge BaseWeight = Metrics.CreateGauge("lowlatency_gateway_backend_base_weight", "The backend's configured (base) weight.", Labels);
    private static readonly Gauge Latency = Metrics.CreateGauge("lowlatency_gateway_backend_latency_us", "EWMA of the backend's answer time, microseconds.", Labels);
    private static readonly Gauge ErrorRate = Metrics.CreateGauge("lowlatency_gateway_backend_error_rate", "The backend's error rate over the sliding window.", Labels);
    private static readonly Gauge State = Metrics.CreateGauge("lowlatency_gateway_backend_state", "0 closed, 1 open (ejected), 2 half-open (probed), 3 recovering.", Labels);
    private static readonly Counter Answers = Metrics.CreateCounter("lowlatency_gateway_backend_answers_total", "Requests the alias routed to the backend that ended.", Labels);
    private static readonly Counter Errors = Metrics.CreateCounter("lowlatency_gateway_backend_errors_total", "Of those, server-side failures (the backend out, or a 5xx).", Labels);

    private static readonly Gauge[] Gauges = [Weight, BaseWeight, Latency, ErrorRate, State];

    // Every server of the process (tests start several) exports its gateway; the registry is process-wide,
    // so two servers with the same alias and backend names write one series (the last collected wins).
    private static readonly ConcurrentDictionary<ModelGateway, byte> Gateways = new();
    private static int _registered;

    public static void Export(ModelGateway gateway)
    {
        Gateways[gateway] = 0;
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            Metrics.DefaultRegistry.AddBeforeCollectCallback(Collect);
        }
    }

    public static void Stop(ModelGateway gateway) => Gateways.TryRemove(gateway, out _);

    private static void Collect()
    {
        var seen = new HashSet<(string, string)>();
        foreach (var gateway in Gateways.Keys)
        {
            foreach (var alias in gateway.Aliases)
            {
                string name = alias.Definition.Name;
                foreach (var row in alias.Rows())
                {
                    seen.Add((name, row.Name));
                    Weight.WithLabels(name, row.Name).Set(row.Weight);
                    BaseWeight.WithLabels(name, row.Name).Set(row.BaseWeight);
                    Latency.WithLabels(name, row.Name).Set(row.LatencyUs);
                    ErrorRate.WithLabels(name, row.Name).Set(row.ErrorRate);
                    State.WithLabels(name, row.Name).Set((int)row.State);
                    Answers.WithLabels(name, row.Name).IncTo(row.Answers);
                    Errors.WithLabels(name, row.Name).IncTo(row.Errors);
                }
            }
        }

        foreach (var labels in Weight.GetAllLabelValues())
        {
            if (!seen.Contains((labels[0], labels[1])))
            {
                foreach (var gauge in Gauges)
                {
                    gauge.RemoveLabelled(labels);
                }

                Answers.RemoveLabelled(labels);
                Errors.RemoveLabelled(labels);
            }
        }
    }
}
