using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LowLatency.Streams.Generation;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LowLatency.Tests.Streams;

/// <summary>
/// Exactly-once in effect: a generated log of a million events, the processor (a child process)
/// SIGKILLed at random points and restarted several times, and once joined by a second process that
/// takes half the partitions and is itself killed; the stored rows and the dead letters at the end
/// equal the reference's, as of an uninterrupted run. The kill points are random fractions of the log
/// checkpointed, not times, so that on a machine of any speed each kill lands mid-work: after each,
/// with no processor left to move them, the checkpoints are asserted short of the log's end.
/// LL_STREAMS_CRASH_EVENTS sets a smaller log.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed partial class CrashTests(StreamsRedisFixture redis, ITestOutputHelper output) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task Killed_restarted_and_moved_the_processor_ends_with_the_references_rows_and_dead_letters()
    {
        long count = long.Parse(Environment.GetEnvironmentVariable("LL_STREAMS_CRASH_EVENTS") ?? "1000000", CultureInfo.InvariantCulture);
        using var repo = new StreamRepository(redis.Port, partitions: 4, delayMs: 500, idleMs: 60_000, tumblingMs: 5000, tumblingLateMs: 2000,
            slidingMs: 10_000, slideMs: 2500, slidingLateMs: 1000, gapMs: 2000, sessionLateMs: 1000);
        var clock = Stopwatch.StartNew();
        await StreamRun.AppendAsync(redis.Db, repo, new EventGeneratorOptions
        {
            Count = count,
            Keys = 5000,
            Skew = 0.8,
            StartMs = 1_700_000_000_000,
            StepMs = 60_000.0 / count,
            OutOfOrder = 0.1,
            DisorderMs = 1000,
            Late = 0.01,
            LateMs = 3000,
            ClickRate = 0.05,
            Items = 1000,
        });
        output.WriteLine($"appended {count} events in {clock.Elapsed.TotalSeconds:F1} s");

        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"kill points from seed {seed}");
        string[] arguments = ["--repository", repo.Root, "--connection-string", redis.ConnectionString, "--lease-ms", "1000", "--checkpoint-interval-ms", "100"];
        var logs = new List<string>();
        int generation = 0;
        RunnerProcess Start(string name) => new($"{name}{generation++}", arguments);

        long total = await StreamLog.LengthAsync(redis.Db, repo.Source);
        var a = Start("a");
        RunnerProcess? b = null;
        Task WaitCheckpointedFractionAsync(double fraction) =>
            StreamLog.WaitOutstandingAsync(redis.Db, repo.Source, (long)(total * (1 - fraction)), TimeSpan.FromSeconds(120), describe: () => a.Log);

        try
        {
            for (int kill = 0; kill < 4; kill++)
            {
                // The k-th kill once between 0.05 + 0.2k and 0.15 + 0.2k of the log is checkpointed,
                // or, when a restart or the second process's join took the processor past that, a
                // little further on.
                double target = 0.05 + (0.2 * kill) + (random.NextDouble() * 0.1);
                if (kill == 2)
                {
                    // A second process joins: the partitions split between the two; then it dies
                    // mid-way and its partitions come back once its lease lapses.
                    await WaitCheckpointedFractionAsync(0.35);
                    b = Start("b");
                    bool took = await Poll.UntilAsync(() => Holds(b) && Holds(a), TimeSpan.FromSeconds(30));
                    Assert.True(took, "the second process never took a partition");
                }

                double done = 1 - ((double)await StreamLog.OutstandingAsync(redis.Db, repo.Source) / total);
                await WaitCheckpointedFractionAsync(Math.Max(target, done + 0.02));
                Assert.True(await StreamLog.OutstandingAsync(redis.Db, repo.Source) > 0, $"the whole log was checkpointed before kill {kill}");
                if (b is not null)
                {
                    b.Kill();
                    logs.Add(b.Name + ":\n" + b.Log);
                }

                a.Kill();
                logs.Add(a.Name + ":\n" + a.Log);

                // No processor runs: what is outstanding now is what the killed ones left undone.
                long left = await StreamLog.OutstandingAsync(redis.Db, repo.Source);
                output.WriteLine($"{a.Name}{(b is null ? string.Empty : " and " + b.Name)} killed at {clock.Elapsed.TotalSeconds:F1} s with {left} of {total} entries not checkpointed");
                Assert.True(left > 0, $"kill {kill} hit processors that had checkpointed the whole log");
                b?.Dispose();
                b = null;
                a.Dispose();
                a = Start("a");
            }

            await StreamLog.WaitCheckpointedAsync(redis.Db, repo.Source, TimeSpan.FromSeconds(180), describe: () => a.Log);
            Assert.Equal(0, Kill(a.Process.Id, 15));
            Assert.True(a.Process.WaitForExit(30_000), "the last processor did not stop on SIGTERM");
            Assert.Equal(0, a.Process.ExitCode);
            output.WriteLine($"processed at {clock.Elapsed.TotalSeconds:F1} s");
        }
        catch
        {
            output.WriteLine(string.Join("\n", logs) + "\nlast:\n" + a.Log);
            throw;
        }
        finally
        {
            b?.Dispose();
            a.Dispose();
        }

        var expected = await StreamRun.CheckAsync(redis, repo, recording: null, output.WriteLine);
        output.WriteLine($"checked {expected.Latest.Count} rows and {expected.DeadLetters.Count} dead letters at {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(expected.DeadLetters.Count > 0, "the log had no event past its lateness");
    }

    // The runner's last status line names at least one partition it holds.
    private static bool Holds(RunnerProcess runner) =>
        runner.Log.Split('\n')[^1] is var line && line.Contains("partitions [", StringComparison.Ordinal) && !line.Contains("partitions []", StringComparison.Ordinal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
