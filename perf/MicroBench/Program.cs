using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LowLatency.MicroBench;

// BenchmarkDotNet micro-benchmarks of the hot paths, with MemoryDiagnoser, then the allocation gate:
// every benchmark's bytes per operation against its [AllocationBudget]; exit code 1 when one is over
// (or did not run). BenchmarkDotNet's own switches pass through, e.g.
//   dotnet pwsh build.ps1 microbench                       (all, short job, in process)
//   LowLatency.MicroBench --filter *Handoff* --job medium
// In process: no generated project to build, and the benchmarks load libtorch from this output.
var config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary)
    .WithArtifactsPath(Path.Combine(Repo.Root, "perf", "results", "tmp", "microbench"));
if (!args.Contains("--job"))
{
    config = config.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(AllocationBudgetAttribute).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
int failures = 0, checkedCount = 0;
Console.WriteLine();
Console.WriteLine("| benchmark | allocated B/op | budget B/op | |");
Console.WriteLine("|---|---|---|---|");
foreach (var summary in summaries)
{
    foreach (var report in summary.Reports)
    {
        var method = report.BenchmarkCase.Descriptor.WorkloadMethod;
        var budget = method.GetCustomAttribute<AllocationBudgetAttribute>();
        string name = $"{method.DeclaringType!.Name}.{method.Name}";
        long? bytes = report.Success ? report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) : null;
        bool ok = budget is not null && bytes is not null && bytes <= budget.BytesPerOperation;
        failures += ok ? 0 : 1;
        checkedCount++;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {(bytes is null ? "did not run" : bytes.Value.ToString(CultureInfo.InvariantCulture))} | {(budget is null ? "none set" : budget.BytesPerOperation.ToString(CultureInfo.InvariantCulture))} | {(ok ? "ok" : "OVER")} |"));
    }
}

Console.WriteLine(checkedCount == 0 ? "no benchmark ran" : failures == 0 ? $"allocation budgets: all {checkedCount} within budget" : $"allocation budgets: {failures} of {checkedCount} over budget or not run");
return checkedCount == 0 || failures > 0 ? 1 : 0;
