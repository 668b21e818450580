using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LowLatency.MicroBench;

// BenchmarkDotNet micro-benchmarks of the hot paths, with MemoryDiagnoser, then the allocation gate:
// every benchmark's bytes per operation against its [AllocationBudget]; exit code 1 when one is over
// (or did not run). BenchmarkDotNet's own switches pass through, e.g.
//   dotnet pwsh build.ps1 microbench                       (all, short job, in process)
//   LowLatency.MicroBench --filter *Handoff* --job medium
// In process: no generated project to build, and the benchmarks load libtorch from this output.
// The console gets BenchmarkDotNet's summary table, its errors, and the gate's table and verdict
// (build.ps1 test runs this); its log of every iteration goes to its log file under
// perf/results/tmp/microbench, whose part for a benchmark that did not run is printed, and to the
// console as well with --verbose.
bool verbose = args.Contains("--verbose");
args = [.. args.Where(a => a != "--verbose")];
var config = ManualConfig.CreateEmpty()
    .AddColumnProvider([.. DefaultConfig.Instance.GetColumnProviders()])
    .AddExporter([.. DefaultConfig.Instance.GetExporters()])
    .AddAnalyser([.. DefaultConfig.Instance.GetAnalysers()])
    .AddValidator([.. DefaultConfig.Instance.GetValidators()])
    .AddLogger(verbose ? ConsoleLogger.Default : new ErrorsOnlyLogger())
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary)
    .WithArtifactsPath(Path.Combine(Repo.Root, "perf", "results", "tmp", "microbench"));
if (!args.Contains("--job"))
{
    config = config.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(AllocationBudgetAttribute).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config).ToList();
if (!verbose)
{
    // What the verbose log ends with: the environment, the job and the table of results.
    foreach (var summary in summaries)
    {
        MarkdownExporter.Console.ExportToLog(summary, ConsoleLogger.Default);
    }
}

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
if ((checkedCount == 0 || failures > 0) && !verbose)
{
    foreach (var summary in summaries)
    {
        // Why a benchmark did not run (its exception, say) is in its part of the log.
        foreach (var report in summary.Reports.Where(r => !r.Success))
        {
            Console.WriteLine();
            Console.WriteLine(LogOf(summary.LogFilePath, report.BenchmarkCase.DisplayInfo));
        }

        Console.WriteLine($"BenchmarkDotNet's log: {summary.LogFilePath}");
    }
}

return checkedCount == 0 || failures > 0 ? 1 : 0;

// The lines BenchmarkDotNet's log holds for one benchmark, from its heading to the next one's.
static string LogOf(string logFile, string benchmark)
{
    var lines = File.ReadAllLines(logFile);
    int start = Array.IndexOf(lines, "// Benchmark: " + benchmark);
    if (start < 0)
    {
        return $"(no part of {logFile} for {benchmark})";
    }

    int end = start + 1;
    while (end < lines.Length && !lines[end].StartsWith("// Benchmark: ", StringComparison.Ordinal) && !lines[end].StartsWith("// ** Remained", StringComparison.Ordinal))
    {
        end++;
    }

    return string.Join(Environment.NewLine, lines[start..end]);
}
