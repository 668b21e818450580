using LowLatency.Native.Torch;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>Process-wide libtorch set-up: load the native layer once and size its intra-op pool.</summary>
internal static class TorchRuntime
{
    private static int s_threads;

    /// <summary>
    /// Loads libtorch (patching around an old libstdc++ when needed) and sets the intra-op thread pool.
    /// The pool is process-wide in libtorch; the engine option <c>IntraOpThreads</c> says why it defaults to one.
    /// </summary>
    public static LibTorchLoadReport Initialize(int intraOpThreads)
    {
        var report = LibTorchLoader.EnsureLoaded();
        int threads = Math.Max(1, intraOpThreads);
        if (Interlocked.Exchange(ref s_threads, threads) != threads)
        {
            torch.set_num_threads(threads);
        }

        return report;
    }
}
