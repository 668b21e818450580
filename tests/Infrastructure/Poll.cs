using System.Diagnostics;

namespace LowLatency.Tests.Infrastructure;

/// <summary>
/// Waits for a condition itself rather than sleeping for a time that usually suffices: checks it
/// every millisecond or so until it holds. The timeout only bounds a failure (a loaded CI host may
/// take seconds for what takes microseconds here), so it is generous, and a passing test never waits
/// for it.
/// </summary>
internal static class Poll
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>True once <paramref name="condition"/> holds; false if it did not within <paramref name="timeout"/> (the caller asserts, saying what was missing).</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > (timeout ?? DefaultTimeout))
            {
                return false;
            }

            await Task.Delay(1);
        }

        return true;
    }

    /// <summary>As <see cref="UntilAsync"/>, blocking the calling thread.</summary>
    public static bool Until(Func<bool> condition, TimeSpan? timeout = null)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > (timeout ?? DefaultTimeout))
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }
}
