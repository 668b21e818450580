using System.Runtime.InteropServices;

namespace LowLatency.Gateway.Weights;

/// <summary>
/// One backend's answers: counted on the request path (three interlocked adds, no lock), and moved
/// each tick by the timer into a ring of per-tick totals that the window is summed over. The three
/// counters are exchanged one after another, so an answer recorded between two exchanges may count
/// its latency in one tick and itself in the next: a tick's mean moves by one answer, which the
/// weights cannot tell from noise.
/// </summary>
public sealed class BackendWindow
{
    private readonly long[] _requests;
    private readonly long[] _errors;
    private readonly long[] _latencyUs;
    private Counters _now;
    private int _slot;

    public BackendWindow(int ticks)
    {
        _requests = new long[ticks];
        _errors = new long[ticks];
        _latencyUs = new long[ticks];
    }

    /// <summary>An answer of this backend (request path).</summary>
    public void Record(long latencyUs, bool ok)
    {
        Interlocked.Increment(ref _now.Requests);
        Interlocked.Add(ref _now.LatencyUs, latencyUs);
        if (!ok)
        {
            Interlocked.Increment(ref _now.Errors);
        }
    }

    /// <summary>Closes the current tick (timer only): its totals, and the window's after it.</summary>
    public WindowTotals Tick()
    {
        long requests = Interlocked.Exchange(ref _now.Requests, 0);
        long latency = Interlocked.Exchange(ref _now.LatencyUs, 0);
        long errors = Interlocked.Exchange(ref _now.Errors, 0);
        _slot = (_slot + 1) % _requests.Length;
        (_requests[_slot], _errors[_slot], _latencyUs[_slot]) = (requests, errors, latency);
        long windowRequests = 0, windowErrors = 0;
        for (int i = 0; i < _requests.Length; i++)
        {
            windowRequests += _requests[i];
            windowErrors += _errors[i];
        }

        return new WindowTotals(requests, latency, windowRequests, windowErrors);
    }

    /// <summary>Forgets the window (timer only): a probed backend is judged on its probes alone.</summary>
    public void Clear()
    {
        Array.Clear(_requests);
        Array.Clear(_errors);
        Array.Clear(_latencyUs);
    }

    // Written by every request thread: on its own cache lines, away from the ring the timer reads.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Counters
    {
        [FieldOffset(64)]
        public long Requests;

        [FieldOffset(72)]
        public long Errors;

        [FieldOffset(80)]
        public long LatencyUs;
    }
}
