using System.Runtime.InteropServices;

namespace LowLatency.Native.Processes;

/// <summary>Signals between server processes (the handover on the same port), through kill(2).</summary>
public static partial class ProcessSignals
{
    /// <summary>SIGUSR2 on Linux: what the new process sends the old one to make it leave.</summary>
    public const int UserSignal2 = 12;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false if kill(2) refused (no such process, or not ours).</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>Whether <paramref name="pid"/> names a live process (kill with signal 0 checks without sending).</summary>
    public static bool Alive(int pid) => pid > 0 && (Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM: alive, not ours */);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
