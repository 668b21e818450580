namespace LowLatency.Streams.Windows;

public sealed partial class PartitionEngine
{
    /// <summary>
    /// Takes a checkpoint's state into an empty engine: the largest event time and every key's windows,
    /// with their timers made again (a window not yet written waits for the combined watermark; every
    /// window for its close; one written and updated since is written at the next flush).
    /// </summary>
    public void Restore(long maxEventTime, IEnumerable<KeyState> keys)
    {
        if (_keys.Count != 0 || MaxEventTime != long.MinValue)
        {
            throw new InvalidOperationException("a partition's state is restored into an empty engine only");
        }

        MaxEventTime = maxEventTime;
        foreach (var key in keys)
        {
            if (key.Windows == 0)
            {
                continue;
            }

            _keys.Add(key.Key, key);
            StateBytes += key.Bytes;
            for (int v = 0; v < _views.Length; v++)
            {
                foreach (var w in key.Views[v] ?? [])
                {
                    Schedule(key, _views[v], w);
                    if (w.Fired && w.Dirty)
                    {
                        _late.Add(new TimerRef(key, v, w, w.End));
                    }
                }
            }
        }
    }
}
