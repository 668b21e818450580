using System.Collections.Concurrent;
using System.Diagnostics;

namespace LowLatency.Tests.Streams;

/// <summary>
/// The stream processor as a child process, its output collected; killed on dispose if still running.
/// It runs from the runner's own output (built with the tests, which reference it), not from the test
/// output: the tests are an ASP.NET Core app, so packages that framework carries (the hosting
/// abstractions) are not copied beside them, and the runner's runtime configuration does not name it.
/// </summary>
internal sealed class RunnerProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _log = new();

    public RunnerProcess(string name, params string[] arguments)
    {
        Name = name;
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Dll, "stream", "--member", name },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        Process = Process.Start(psi)!;
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _log.Enqueue(e.Data); } };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _log.Enqueue(e.Data); } };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public string Name { get; }

    /// <summary>streams/Runner/bin/&lt;the tests' configuration&gt;/net10.0/streamrunner.dll.</summary>
    public static string Dll { get; } = Path.Combine(
        Infrastructure.RepoPaths.Root, "streams", "Runner", "bin",
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name, "net10.0", "streamrunner.dll");

    public Process Process { get; }

    public string Log => string.Join('\n', _log);

    /// <summary>SIGKILL: a crash at whatever point it is, no checkpoint, no release.</summary>
    public void Kill()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }
}
