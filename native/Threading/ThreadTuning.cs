using System.Runtime.InteropServices;

namespace LowLatency.Native.Threading;

/// <summary>Per-thread OS settings for the engine's dedicated threads (Linux; no-ops elsewhere).</summary>
public static partial class ThreadTuning
{
    private const int PrSetTimerSlack = 29;

    /// <summary>
    /// Sets the calling thread's timer slack to 1 ns. Linux lets a timed wait of an ordinary thread
    /// overshoot by up to 50 µs by default (timer coalescing), which would eat a whole batching window.
    /// </summary>
    public static bool UsePreciseTimers()
    {
        return OperatingSystem.IsLinux() && Prctl(PrSetTimerSlack, 1, 0, 0, 0) == 0;
    }

    /// <summary>Pins the calling thread to one CPU core; false when the OS refuses or is not Linux.</summary>
    public static bool PinToCore(int core) => PinToCores([core]);

    /// <summary>
    /// Pins the calling thread to a set of CPU cores (threads it starts afterwards inherit the set,
    /// as libtorch's intra-op threads do); false when a core is out of range, the OS refuses, or not Linux.
    /// </summary>
    public static unsafe bool PinToCores(ReadOnlySpan<int> cores)
    {
        if (!OperatingSystem.IsLinux() || cores.IsEmpty)
        {
            return false;
        }

        ulong* mask = stackalloc ulong[16];
        new Span<ulong>(mask, 16).Clear();
        foreach (int core in cores)
        {
            if (core < 0 || core >= 1024)
            {
                return false;
            }

            mask[core / 64] |= 1UL << (core % 64);
        }

        return SchedSetaffinity(0, 16 * sizeof(ulong), mask) == 0;
    }

    /// <summary>
    /// Whether <paramref name="core"/> is in this process's affinity mask (its main thread's, which
    /// taskset, isolcpus and a container's cpuset narrow, so not simply below the core count): the
    /// runtime gives that mask to every thread it starts, whichever thread starts it. True off
    /// Linux, where nothing is pinned, and when the mask cannot be read.
    /// </summary>
    public static unsafe bool MayRunOn(int core)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        if (core < 0 || core >= 1024)
        {
            return false;
        }

        ulong* mask = stackalloc ulong[16];
        new Span<ulong>(mask, 16).Clear();
        return SchedGetaffinity(Environment.ProcessId, 16 * sizeof(ulong), mask) != 0 || (mask[core / 64] & (1UL << (core % 64))) != 0;
    }

    /// <summary>
    /// Whether a thread of this process may be pinned to <paramref name="core"/>: tried on a
    /// short-lived thread. Wider than <see cref="MayRunOn"/>: taskset and the kernel's isolcpus
    /// narrow the affinity mask a process starts with, not the cores its threads may be moved to,
    /// so a device worker may be given a core kept free of everything else. A container's cpuset
    /// and cores that do not exist or are offline refuse. True off Linux, where nothing is pinned.
    /// </summary>
    public static bool CanPinTo(int core)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        if (core < 0 || core >= 1024)
        {
            return false;
        }

        bool pinned = false;
        var probe = new Thread(() => pinned = PinToCore(core)) { IsBackground = true, Name = "ll-core-probe" };
        probe.Start();
        probe.Join();
        return pinned;
    }

    /// <summary>How many cores this process's affinity mask holds (what the runtime counted at start, unless DOTNET_PROCESSOR_COUNT says otherwise); null off Linux or unread.</summary>
    public static unsafe int? AllowedCoreCount()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        ulong* mask = stackalloc ulong[16];
        new Span<ulong>(mask, 16).Clear();
        if (SchedGetaffinity(Environment.ProcessId, 16 * sizeof(ulong), mask) != 0)
        {
            return null;
        }

        int count = 0;
        for (int i = 0; i < 16; i++)
        {
            count += System.Numerics.BitOperations.PopCount(mask[i]);
        }

        return count;
    }

    /// <summary>
    /// Sets the calling thread's nice value (-20 highest … 19 lowest); on Linux a thread id names one
    /// thread, so only this thread changes. Raising priority (a negative value) needs CAP_SYS_NICE or
    /// an RLIMIT_NICE that allows it; false when refused.
    /// </summary>
    public static bool SetNice(int nice)
    {
        if (!OperatingSystem.IsLinux() || nice is < -20 or > 19)
        {
            return false;
        }

        return SetPriority(PrioProcess, GetTid(), nice) == 0;
    }

    /// <summary>The calling thread's nice value, or null off Linux.</summary>
    public static int? GetNice()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // -1 is both a valid nice value and the error return: errno tells them apart.
        Marshal.SetLastPInvokeError(0);
        int nice = GetPriority(PrioProcess, GetTid());
        return nice == -1 && Marshal.GetLastPInvokeError() != 0 ? null : nice;
    }

    /// <summary>
    /// Puts the calling thread under SCHED_FIFO at <paramref name="priority"/> (1 … 99): it then
    /// takes its core from every ordinary (SCHED_OTHER) thread the moment it becomes runnable, and
    /// no ordinary thread takes the core from it until it blocks. Needs CAP_SYS_NICE or an
    /// RLIMIT_RTPRIO allowing it; false when refused or not Linux. The kernel's RT throttling
    /// (sched_rt_runtime_us, 95 % by default) still leaves ordinary threads a share of each core.
    /// </summary>
    public static unsafe bool UseRealtimePriority(int priority)
    {
        if (!OperatingSystem.IsLinux() || priority is < 1 or > 99)
        {
            return false;
        }

        // struct sched_param is one int; pid 0 is the calling thread (a thread id on Linux).
        int param = priority;
        return SchedSetscheduler(0, SchedFifo, &param) == 0;
    }

    /// <summary>Whether the calling thread runs under SCHED_FIFO (false off Linux).</summary>
    public static bool IsRealtime() => OperatingSystem.IsLinux() && SchedGetscheduler(0) == SchedFifo;

    private const int SchedFifo = 1;

    private const int PrioProcess = 0;

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int prio);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", EntryPoint = "sched_setscheduler")]
    private static unsafe partial int SchedSetscheduler(int pid, int policy, int* param);

    [LibraryImport("libc", EntryPoint = "sched_getscheduler")]
    private static partial int SchedGetscheduler(int pid);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity")]
    private static unsafe partial int SchedGetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static unsafe partial int SchedSetaffinity(int pid, nuint size, ulong* mask);
}
