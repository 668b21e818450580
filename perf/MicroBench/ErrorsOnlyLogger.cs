using BenchmarkDotNet.Loggers;

namespace LowLatency.MicroBench;

/// <summary>
/// BenchmarkDotNet's console, errors only (a benchmark that threw, a validation that failed): its
/// log of every iteration still goes to the log file it writes beside its artifacts.
/// </summary>
internal sealed class ErrorsOnlyLogger : ILogger
{
    // An error written in parts ends with a plain WriteLine(); other kinds' line ends are dropped.
    private bool _inError;

    public string Id => nameof(ErrorsOnlyLogger);

    public int Priority => 0;

    public void Write(LogKind logKind, string text)
    {
        _inError = logKind == LogKind.Error;
        if (_inError)
        {
            Console.Error.Write(text);
        }
    }

    public void WriteLine()
    {
        if (_inError)
        {
            Console.Error.WriteLine();
            _inError = false;
        }
    }

    public void WriteLine(LogKind logKind, string text)
    {
        if (logKind == LogKind.Error)
        {
            Console.Error.WriteLine(text);
        }

        _inError = false;
    }

    public void Flush() => Console.Error.Flush();
}
