using LowLatency.Features.Store;

namespace LowLatency.Streams.Windows;

/// <summary>
/// Everything a partition holds for one entity: each view's open windows (few: one per tumbling
/// window in lateness, size / slide for sliding ones, a session or two), and the bytes they count
/// against the per-key cap. <see cref="Dirty"/> marks it for the next checkpoint.
/// </summary>
public sealed class KeyState(EntityKey key, int views)
{
    public EntityKey Key { get; } = key;

    public List<WindowState>?[] Views { get; } = new List<WindowState>?[views];

    public int Windows { get; set; }

    public long Bytes { get; set; }

    public bool Dirty { get; set; }
}
