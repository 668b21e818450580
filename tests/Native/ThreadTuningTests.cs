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
    public void The_engine_runs_its_scheduler_and_worker_threads_at_the_configured_nice_value()
    {
        // A model name no other test uses: thread names (15 bytes in /proc) tell this engine's apart.
        using var repo = new TempRepository();
        string config = File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")).Replace("\"ctr-ranker\"", "\"nice\"", StringComparison.Ordinal);
        repo.AddModel("nice", config);
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root, ThreadNice = 5 });
        engine.Scan();
        engine.Load();
        var niceByThread = new Dictionary<string, int>();
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

            if (comm.StartsWith("ll-nice-", StringComparison.Ordinal))
            {
                // Field 19 of stat is the nice value; fields count from after the ")" ending comm.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                niceByThread[$"{comm} ({Path.GetFileName(task)})"] = int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        // The scheduler and at least one worker.
        Assert.True(niceByThread.Count >= 2, string.Join(", ", niceByThread.Keys));
        Assert.All(niceByThread, kv => Assert.Equal(5, kv.Value));
    }
}
