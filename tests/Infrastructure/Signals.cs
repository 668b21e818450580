using System.Runtime.InteropServices;

namespace LowLatency.Tests.Infrastructure;

/// <summary>Signals to a child process, as systemd and Kubernetes send them.</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    /// <summary>Sends SIGTERM to <paramref name="pid"/>; false if kill(2) refused.</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
