using System.Runtime.InteropServices;

namespace LowLatency.Native.Threading;

/// <summary>
/// A one-waiter wake-up signal with a precise timed wait. On Linux the wait is a futex with a
/// nanosecond timeout (.NET's own waits take milliseconds, far too coarse for a 100 µs batching
/// window); elsewhere it falls back to a <see cref="ManualResetEventSlim"/>. A signal with nobody
/// parked costs one interlocked operation and no system call.
/// </summary>
public sealed unsafe class ParkingSpot : IDisposable
{
    private const int FutexWaitPrivate = 128;
    private const int FutexWakePrivate = 129;
    private const long SysFutex = 202; // x86-64

    private static readonly bool UseFutex = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    // The futex word lives in native memory, on its own cache line: it never moves and shares no line.
    private readonly int* _word;
    private readonly ManualResetEventSlim? _fallback;
    private int _parked;

    public ParkingSpot()
    {
        _word = (int*)NativeMemory.AlignedAlloc(64, 64);
        *_word = 0;
        _fallback = UseFutex ? null : new ManualResetEventSlim(false, 0);
    }

    /// <summary>Wakes the waiter, or makes its next wait return at once. Any thread.</summary>
    public void Signal()
    {
        if (Interlocked.Exchange(ref *_word, 1) == 0 && Volatile.Read(ref _parked) == 1)
        {
            if (_fallback is null)
            {
                Futex(_word, FutexWakePrivate, 1, null);
            }
            else
            {
                _fallback.Set();
            }
        }
    }

    /// <summary>Consumes a pending signal without waiting; true if there was one.</summary>
    public bool TryConsume() => Interlocked.Exchange(ref *_word, 0) == 1;

    /// <summary>
    /// Parks until signalled or until <paramref name="timeoutNanoseconds"/> pass (negative: no
    /// timeout). True when a signal was consumed. Only the owning thread waits.
    /// </summary>
    public bool Wait(long timeoutNanoseconds)
    {
        if (TryConsume())
        {
            return true;
        }

        // Announce first, then re-check: a Signal that set the word before seeing _parked is caught
        // by the futex's compare (or the re-check); one that sees _parked wakes us.
        Volatile.Write(ref _parked, 1);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref *_word) == 0 && timeoutNanoseconds != 0)
        {
            if (_fallback is null)
            {
                if (timeoutNanoseconds < 0)
                {
                    Futex(_word, FutexWaitPrivate, 0, null);
                }
                else
                {
                    var ts = new Timespec { Seconds = timeoutNanoseconds / 1_000_000_000, Nanoseconds = timeoutNanoseconds % 1_000_000_000 };
                    Futex(_word, FutexWaitPrivate, 0, &ts);
                }
            }
            else
            {
                _fallback.Wait(timeoutNanoseconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(Math.Max(1, timeoutNanoseconds / 100)));
                _fallback.Reset();
            }
        }

        Volatile.Write(ref _parked, 0);
        return TryConsume();
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_word);
        _fallback?.Dispose();
    }

    private static long Futex(int* word, int op, int value, Timespec* timeout) => Syscall(SysFutex, (nint)word, op, value, (nint)timeout, 0, 0);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = false)]
    private static extern long Syscall(long number, nint a1, long a2, long a3, nint a4, nint a5, long a6);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
