namespace LowLatency.Tests.Infrastructure;

/// <summary>
/// The test classes that start the server as a child process, or measure the whole test process: they
/// run one after another, after the parallel collections, so that a child server's start (a JIT and
/// three model loads on every core) does not stretch the timing of in-process tests, and a resident
/// memory or a process-wide allocation count is read with nothing else of the suite running.

/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChildProcessCollection
{
    public const string Name = "child processes";
}
