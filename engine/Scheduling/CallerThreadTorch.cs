using TorchSharp;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// libtorch's per-thread state on a request thread that runs a batch itself (caller runs): grad
/// mode and, in libtorch's OpenMP build, the intra-op thread count are thread-local, and a device
/// worker sets both once for its life. A pool thread gets the same, once, on its first batch, and
/// keeps it: entering inference mode per batch would allocate a guard object each time, and only
/// the engine uses libtorch on these threads. The worker's own thread is never touched.
/// </summary>
internal static class CallerThreadTorch
{
    // The guard is never disposed: the thread stays in inference mode as a device worker does.
    [ThreadStatic]
    private static IDisposable? t_inference;

    [ThreadStatic]
    private static int t_intraOpThreads;

    /// <summary>Puts the calling thread in the state a device worker runs in; nothing after the first call.</summary>
    public static void Enter(int intraOpThreads)
    {
        if (t_intraOpThreads == intraOpThreads)
        {
            return;
        }

        t_inference ??= torch.inference_mode();
        torch.set_num_threads(intraOpThreads);
        t_intraOpThreads = intraOpThreads;
    }
}
