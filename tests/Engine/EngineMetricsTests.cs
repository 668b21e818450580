using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LowLatency.Engine.Config;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Engine;

/// <summary>The engine publishes its internals through System.Diagnostics.Metrics, tagged by model and version.</summary>
public sealed class EngineMetricsTests
{
    [Fact]
    public async Task Requests_batches_and_queue_depth_are_published_per_model_and_version()
    {
        var seen = new ConcurrentDictionary<string, ConcurrentBag<(long Value, Dictionary<string, object?> Tags)>>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EngineMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument i, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var dict = new Dictionary<string, object?>();
            foreach (var t in tags)
            {
                dict[t.Key] = t.Value;
            }

            seen.GetOrAdd(i.Name, _ => []).Add((value, dict));
        }

        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();

        // A name of its own: the gauges sum every live version with the same labels in the process,
        // and other test classes serve ctr-ranker version 1 at the same time.
        using var repo = new CtrRepository(name: "metrics-" + Guid.NewGuid().ToString("N")[..8], versions: 1);
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root });
        engine.Scan();
        engine.Load();
        Assert.True(engine.TryGetModel(repo.Name, out var served));
        var model = served.Latest;
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        var r = model.RentRequest();
        Wire.Encode("INT64", golden.Request.Inputs[0].Values).CopyTo(r.AddInput(0, TensorDataType.Int64, [8, 26]));
        Wire.Encode("FP32", golden.Request.Inputs[1].Values).CopyTo(r.AddInput(1, TensorDataType.FP32, [8, 13]));
        Assert.True(await model.InferAsync(r));
        r.Dispose();
        listener.RecordObservableInstruments();

        bool ForCtr(Dictionary<string, object?> tags) => (string?)tags["model"] == repo.Name && (string?)tags["version"] == "1";
        Assert.Contains(seen["requests"], m => ForCtr(m.Tags) && (string?)m.Tags["outcome"] == "ok" && m.Value == 1);
        Assert.Contains(seen["batch.size"], m => ForCtr(m.Tags) && m.Value == 8);
        Assert.Contains(seen["request.compute"], m => ForCtr(m.Tags) && m.Value > 0);
        Assert.Contains(seen["request.overhead"], m => ForCtr(m.Tags));
        Assert.Contains(seen["request.queue"], m => ForCtr(m.Tags));
        Assert.Contains(seen["queue.depth"], m => ForCtr(m.Tags) && m.Value == 0);
        Assert.Contains(seen["worker.restarts"], m => ForCtr(m.Tags) && m.Value == 0);
        Assert.Contains(seen["request.duration"], m => ForCtr(m.Tags) && m.Value > 0);
        Assert.Contains(seen["requests.in_flight"], m => ForCtr(m.Tags) && m.Value == 0);
        Assert.Contains(seen["worker.wake_lead"], m => ForCtr(m.Tags) && m.Value >= WakeLead.FloorMicroseconds && m.Value <= WakeLead.CapMicroseconds);
    }

    [Fact]
    public async Task A_version_reloading_beside_its_retiring_self_is_one_series_per_gauge()
    {
        using var repo = new CtrRepository(name: "metrics-reload-" + Guid.NewGuid().ToString("N")[..8], versions: 1);
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root });
        engine.Scan();
        engine.Load();

        // A request still holds the old version (a response being written) while the reload swaps in
        // a new version 1: both are alive, with the same labels.
        Assert.Equal(InferenceStatus.Ok, engine.Route(repo.Name, null, null, out var held, out _));
        var request = held.Version.RentRequest();
        CtrRepository.Fill(request);
        Assert.True(await held.Version.InferAsync(request));
        Assert.True((await engine.LoadModelAsync(repo.Name, null)).Succeeded);
        Assert.True(engine.TryGetModel(repo.Name, out var after));
        Assert.NotSame(held.Version, after.Versions[1]);
        Assert.True(held.Version.IsRetired);

        var seen = new ConcurrentBag<(string Instrument, long Value)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EngineMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument i, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? model = null;
            foreach (var t in tags)
            {
                model = t.Key == "model" ? (string?)t.Value : model;
            }

            if (model == repo.Name)
            {
                seen.Add((i.Name, value));
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();
        listener.RecordObservableInstruments();

        foreach (var gauge in (string[])["queue.depth", "requests.in_flight", "worker.restarts", "routing.breaker.state", "worker.wake_lead"])
        {
            Assert.Single(seen, m => m.Instrument == gauge);
        }

        // The held request is answered but not yet released: it still counts as in flight, on the old object.
        Assert.Equal(held.Version.InFlight + after.Versions[1].InFlight, seen.Single(m => m.Instrument == "requests.in_flight").Value);
        request.Dispose();
        held.Release();
    }

    [Fact]
    public async Task Warm_up_at_load_and_reload_records_no_request_or_batch_on_the_meter()
    {
        using var repo = new CtrRepository(name: "metrics-warmup-" + Guid.NewGuid().ToString("N")[..8], versions: 1);
        var seen = new ConcurrentBag<(string Instrument, long Value)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EngineMetrics.MeterName && EngineMetrics.ExportedInstruments.Contains(instrument.Name))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument i, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var t in tags)
            {
                if (t.Key == "model" && (string?)t.Value == repo.Name)
                {
                    seen.Add((i.Name, value));
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();

        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root });
        engine.Scan();
        engine.Load();
        Assert.True((await engine.LoadModelAsync(repo.Name, null)).Succeeded);
        Assert.Empty(seen);

        var sent = await CtrRepository.SendAsync(engine, repo.Name);
        Assert.Equal(InferenceStatus.Ok, sent.Status);
        Assert.Single(seen, m => m.Instrument == "requests");
        Assert.Single(seen, m => m.Instrument == "request.duration");
        Assert.Single(seen, m => m.Instrument == "batch.size" && m.Value == 1);
        Assert.Single(seen, m => m.Instrument == "routing.requests");
    }

    [Fact]
    public void Each_outcome_label_names_its_own_status()
    {
        // The labels were once an array indexed by the enum in another order: 429s were counted as
        // model_error, 504s as rejected and 500s as deadline_exceeded.
        foreach (var status in Enum.GetValues<InferenceStatus>())
        {
            string snake = string.Concat(status.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
            Assert.Equal(snake, EngineMetrics.OutcomeName(status));
        }
    }
}
