using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LowLatency.Tests.Lifecycle;

/// <summary>The autoscaler's driver in a real engine: it adds an instance under load and removes it when the load goes, logging and counting each decision.</summary>
public sealed class AutoscalerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Adds_an_instance_under_load_and_removes_it_once_idle_with_each_decision_logged_and_counted()
    {
        const string Model = "autoscaled";
        using var repo = new CtrRepository(name: Model, versions: 1, edit: c => c["autoscale"] = JsonNode.Parse("""
            {"min_instances": 1, "max_instances": 2, "target_queue_delay_microseconds": 20, "window_seconds": 0.3, "cooldown_seconds": 0.3, "idle_percent": 50, "scale_down_stabilization_seconds": 0.6}
            """));
        var events = new ConcurrentQueue<EngineEvent>();
        var decisions = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EngineMetrics.MeterName && instrument.Name == "autoscaler.decisions")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, v, tags, _) =>
        {
            string? model = null, action = null;
            foreach (var t in tags)
            {
                model = t.Key == "model" ? (string?)t.Value : model;
                action = t.Key == "action" ? (string?)t.Value : action;
            }

            if (model == Model)
            {
                decisions.AddOrUpdate(action!, v, (_, n) => n + v);
            }
        });
        listener.Start();

        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root, ModelControlMode = ModelControlMode.All, StartupModels = [] });
        engine.Scan();
        engine.Load(events.Enqueue);
        Assert.True(engine.TryGetModel(Model, out var served));
        var version = served.Versions[1];
        Assert.Equal(1, version.Instances);

        long failed = 0, answered = 0;
        using var stop = new CancellationTokenSource();
        async Task Client()
        {
            while (!stop.IsCancellationRequested)
            {
                using var r = version.RentRequest();
                CtrRepository.Fill(r);
                if (!await version.InferAsync(r))
                {
                    Interlocked.Increment(ref failed);
                }

                Interlocked.Increment(ref answered);
            }
        }

        var clients = Enumerable.Range(0, 6).Select(_ => Task.Run(Client)).ToList();
        bool added = await Poll.UntilAsync(() => version.Instances == 2, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        Assert.True(added, "no instance was added under load: " + string.Join(" | ", events.Select(e => e.Message)));
        Assert.True(await Poll.UntilAsync(() => version.Instances == 1, TimeSpan.FromSeconds(30)), "the idle instance was not removed");

        foreach (var e in events.Where(e => e.Kind == EngineEventKind.AutoscaleDecision))
        {
            output.WriteLine(e.Message);
        }

        Assert.Equal(0, failed);
        Assert.Contains(events, e => e.Kind == EngineEventKind.AutoscaleDecision && e.Message.Contains("add an instance (1 -> 2): mean queue delay", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Kind == EngineEventKind.AutoscaleDecision && e.Message.Contains("remove an instance (2 -> 1)", StringComparison.Ordinal) && e.Message.Contains("more than idle_percent 50%", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Kind == EngineEventKind.InstancesChanged && e.Message.EndsWith("instances 1 -> 2 (the autoscaler)", StringComparison.Ordinal));
        Assert.True(decisions.GetValueOrDefault("add") >= 1 && decisions.GetValueOrDefault("remove") >= 1, string.Join(", ", decisions));
    }
}
