namespace LowLatency.Host.Memory;

/// <summary>
/// <see cref="MemoryTrim"/>'s decision, apart from the clock and the counters so that it can be
/// tested: a burst is on while, between two looks, at least <c>burstBytes</c> were allocated or
/// request bodies held that much; the trim comes at the first look after it where the allocation
/// fell under that and the bodies held under half of it, no sooner than <c>minInterval</c> after
/// the last trim.
/// </summary>
internal sealed class BurstWatch(long burstBytes, TimeSpan minInterval)
{
    private long _allocated = -1;
    private bool _burst;
    private long _lastTrim = long.MinValue;

    /// <param name="allocated">Bytes allocated since start (monotonic).</param>
    /// <param name="heldBodyBytes">Bytes of request bodies held now.</param>
    /// <param name="now">A <see cref="TimeProvider.GetTimestamp"/> reading.</param>
    public bool ShouldTrim(long allocated, long heldBodyBytes, long now)
    {
        long grew = _allocated < 0 ? 0 : allocated - _allocated;
        _allocated = allocated;
        if (grew >= burstBytes || heldBodyBytes >= burstBytes)
        {
            _burst = true;
            return false;
        }

        if (!_burst || heldBodyBytes >= burstBytes / 2
            || (_lastTrim != long.MinValue && TimeProvider.System.GetElapsedTime(_lastTrim, now) < minInterval))
        {
            return false;
        }

        (_burst, _lastTrim) = (false, now);
        return true;
    }
}
