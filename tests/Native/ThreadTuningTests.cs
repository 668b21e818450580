using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Serving;
using LowLatency.Native.Threading;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Native;

public sealed class ThreadTuningTests
{
    [Fact]
    public void A_nice_value_applies_to_the_calling_thread_only()
    {
        int? before = ThreadTuning.GetNice();
        int? set = null;
        bool ok = false;
        // Lowering priority is always allowed, so this holds without CAP_SYS_NICE.
        var t = new Thread(() =>
        {
            ok = ThreadTuning.SetNice(7);
            set = ThreadTuning.GetNice();
        });
        t.Start();
        t.Join();
        Assert.True(ok);
        Assert.Equal(7, set);
        Assert.Equal(before, ThreadTuning.GetNice());
    }

    [Fact]
    public void Realtime_priority_applies_to_the_calling_thread_only_and_only_within_1_to_99()
    {
        Assert.False(ThreadTuning.UseRealtimePriority(0));
        Assert.False(ThreadTuning.UseRealtimePriority(100));
        bool ok = false, realtime = false, realtimeBefore = true;
        var t = new Thread(() =>
        {
            realtimeBefore = ThreadTuning.IsRealtime();
            ok = ThreadTuning.UseRealtimePriority(1);
            realtime = ThreadTuning.IsRealtime();
        });
        t.Start();
        t.Join();
        Assert.False(realtimeBefore);

        // Without CAP_SYS_NICE the OS refuses, and then nothing changed.
        Assert.Equal(ok, realtime);
        Assert.False(ThreadTuning.IsRealtime());
    }

    [Fact]
    public void A_core_may_be_pinned_to_only_when_the_process_affinity_allows_it()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.True(ThreadTuning.MayRunOn(5), "nothing is pinned off Linux, so no core is refused");
            return;
        }

        Assert.False(ThreadTuning.MayRunOn(-1));
        Assert.False(ThreadTuning.MayRunOn(1024));
        // The runtime's own view of the same mask (taskset and cpusets narrow it).
        long mask = (long)System.Diagnostics.Process.GetCurrentProcess().ProcessorAffinity;
        for (int core = 0; core < 64; core++)
        {
            Assert.Equal((mask & (1L << core)) != 0, ThreadTuning.MayRunOn(core));
        }
    }

    [Fact]
    public void A_thread_may_be_pinned_to_every_core_of_the_mask_and_to_no_core_that_does_not_exist()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.True(ThreadTuning.CanPinTo(5), "nothing is pinned off Linux, so no core is refused");
            return;
        }

        Assert.False(ThreadTuning.CanPinTo(-1));
        Assert.False(ThreadTuning.CanPinTo(1024));
        Assert.False(ThreadTuning.CanPinTo(Environment.ProcessorCount + 1000));
        int inMask = 0;
        for (int core = 0; core < 1024; core++)
        {
            if (ThreadTuning.MayRunOn(core))
            {
                inMask++;
                Assert.True(ThreadTuning.CanPinTo(core), $"core {core}");
            }
        }

        Assert.Equal(inMask, ThreadTuning.AllowedCoreCount());
        Assert.Contains(new EngineOptions { WorkerCores = [1023] }.Problems(), p => p.StartsWith("LowLatency:WorkerCores lists core 1023, to which this process may not pin a thread", StringComparison.Ordinal));
    }

    [Fact]
    public void Pinned_workers_of_different_models_take_different_cores_and_their_intra_op_threads_share_their_cores()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var (first, second) = AllowedCores.FirstTwo();
        int[] cores = [first, second];
        using var repo = new TempRepository();
        string config = File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json"));
        repo.AddModel("pin1", config.Replace("\"ctr-ranker\"", "\"pin1\"", StringComparison.Ordinal));
        repo.AddModel("pin2", config.Replace("\"ctr-ranker\"", "\"pin2\"", StringComparison.Ordinal));

        // One intra-op thread: one core each, the second model's worker on the next core.
        using (var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root, WorkerCores = [.. cores] }))
        {
            engine.Scan();
            engine.Load();
            var one = ThreadAffinities("ll-w0.pin");
            Assert.Equal(2, one.Count);
            Assert.Equal([$"{first}", $"{second}"], one.Values.Order().ToArray());
        }

        // Two: each worker on both cores, and the intra-op thread its warm-up started there too.
        using (var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root, WorkerCores = [.. cores], IntraOpThreads = 2 }))
        {
            engine.Scan();
            engine.Load();
            var two = ThreadAffinities("ll-w0.pin");
            Assert.True(two.Count >= 2, string.Join(", ", two));
            Assert.All(two, kv => Assert.Equal($"{first},{second}", kv.Value.Replace('-', ',')));
        }
    }

    [Fact]
    public async Task Each_instance_group_pins_its_instances_to_its_own_cores_also_those_added_at_run_time()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var (first, second) = AllowedCores.FirstTwo();
        using var repo = new TempRepository();
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")))!.AsObject();
        config["name"] = "pingrp";
        config["instance_group"] = System.Text.Json.Nodes.JsonNode.Parse($$"""
            [{"name": "solo", "count": 1, "kind": "KIND_CPU", "cores": [{{second}}]},
             {"name": "pair", "count": 2, "kind": "KIND_CPU", "cores": [{{first}}, {{second}}]}]
            """);
        repo.AddModel("pingrp", config.ToJsonString());
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root });
        engine.Scan();
        engine.Load();
        string Of(int worker) => ThreadAffinities($"ll-w{worker}.pingrp.").Values.Single();

        // The group's cores, one instance each in turn; the other group's are its own.
        Assert.Equal($"{second}", Of(0));
        Assert.Equal($"{first}", Of(1));
        Assert.Equal($"{second}", Of(2));

        // An instance added at run time takes the next share of its group's cores.
        Assert.True((await engine.SetInstancesAsync("pingrp", null, "pair", 3)).Succeeded);
        Assert.Equal($"{first}", Of(3));
        var unnamed = await engine.SetInstancesAsync("pingrp", null, null, 2);
        Assert.Equal(400, unnamed.Status);
        Assert.Contains("has 2 instance groups; name one ('solo', 'pair')", unnamed.Error, StringComparison.Ordinal);
    }

    /// <summary>Cpus_allowed_list of each thread of this process whose name starts with <paramref name="prefix"/>, keyed by name and id.</summary>
    private static Dictionary<string, string> ThreadAffinities(string prefix)
    {
        var allowed = new Dictionary<string, string>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                string comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                if (comm.StartsWith(prefix, StringComparison.Ordinal))
                {
                    string line = File.ReadAllLines(Path.Combine(task, "status")).Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
                    allowed[$"{comm} ({Path.GetFileName(task)})"] = line["Cpus_allowed_list:".Length..].Trim();
                }
            }
            catch (IOException)
            {
                // A thread of another test ended between the listing and the read.
            }
        }

        return allowed;
    }

    [Fact]
    public void The_engine_runs_its_workers_and_only_them_at_realtime_priority_where_allowed()
    {
        bool allowed = false;
        var probe = new Thread(() => allowed = ThreadTuning.UseRealtimePriority(1));
        probe.Start();
        probe.Join();
        using var repo = new TempRepository();
        string config = File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")).Replace("\"ctr-ranker\"", "\"fifo\"", StringComparison.Ordinal);
        repo.AddModel("fifo", config);
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root, WorkerRealtimePriority = 3 });
        engine.Scan();
        var log = new List<EngineEvent>();
        engine.Load(log.Add);
        var policyByThread = ThreadStatFields("fifo", 38);
        Assert.Contains(log, e => e.Kind == EngineEventKind.ThreadPriority && e.IsWarning == !allowed && e.Message.Contains("SCHED_FIFO priority 3", StringComparison.Ordinal));

        // Field 41 of stat is the policy (1: SCHED_FIFO, 0: SCHED_OTHER); the worker sets it as it starts.
        Assert.True(policyByThread.Count >= 2, string.Join(", ", policyByThread.Keys));
        Assert.Contains(policyByThread, kv => kv.Key.StartsWith("ll-w0.fifo.v1", StringComparison.Ordinal));
        Assert.Contains(policyByThread, kv => kv.Key.StartsWith("ll-sched.fifo.v", StringComparison.Ordinal));
        Assert.All(policyByThread, kv => Assert.Equal(allowed && kv.Key.StartsWith("ll-w", StringComparison.Ordinal) ? 1 : 0, kv.Value));
    }

    [Fact]
    public void The_engine_runs_its_scheduler_and_worker_threads_at_the_configured_nice_value()
    {
        // A model name no other test uses: thread names (15 bytes in /proc) tell this engine's apart.
        using var repo = new TempRepository();
        string config = File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")).Replace("\"ctr-ranker\"", "\"nice\"", StringComparison.Ordinal);
        repo.AddModel("nice", config);
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root, ThreadNice = 5 });
        engine.Scan();
        engine.Load();
        var niceByThread = ThreadStatFields("nice", 16);

        // The scheduler and at least one worker.
        Assert.True(niceByThread.Count >= 2, string.Join(", ", niceByThread.Keys));
        Assert.All(niceByThread, kv => Assert.Equal(5, kv.Value));
    }

    /// <summary>
    /// One field of /proc/self/task/*/stat for each engine thread of <paramref name="model"/> (named
    /// ll-&lt;role&gt;.&lt;model&gt;.v&lt;version&gt;, of which Linux keeps 15 characters), keyed by name and id; <paramref name="index"/> counts from the field after the ")" that ends the
    /// name (field 3, the state, is 0), since a name may hold spaces.
    /// </summary>
    private static Dictionary<string, int> ThreadStatFields(string model, int index)
    {
        var values = new Dictionary<string, int>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            string comm, stat;
            try
            {
                comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                // A thread of another test ended between the listing and the read.
                continue;
            }

            if (comm.StartsWith("ll-", StringComparison.Ordinal) && comm.Contains($".{model}.", StringComparison.Ordinal))
            {
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                values[$"{comm} ({Path.GetFileName(task)})"] = int.Parse(fields[index], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return values;
    }
}
