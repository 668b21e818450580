namespace LowLatency.Engine.Execution;

/// <summary>
/// Native resources a model version holds outside the managed heap: its TorchScript module, its
/// workers' arenas, the tensor views cached over them, and the output tensors requests still read.
/// Counted where they are created and released, so a test can see a retired version let go of
/// everything without waiting on the GC (a finalizer would free the same handles much later).
/// </summary>
internal sealed class NativeHandleCount
{
    private static long s_total;
    private long _live;

    /// <summary>Handles this version holds now.</summary>
    public long Live => Volatile.Read(ref _live);

    /// <summary>Handles every version in the process holds now.</summary>
    public static long Total => Volatile.Read(ref s_total);

    // The version's count, for one worker's share of it: a worker added and removed at run time
    // must give back exactly what it took, whatever the others cached meanwhile.
    private readonly NativeHandleCount? _parent;

    public NativeHandleCount()
    {
    }

    /// <summary>A share of <paramref name="parent"/>: what is counted here is counted there too.</summary>
    public NativeHandleCount(NativeHandleCount parent) => _parent = parent;

    internal void Add(int n)
    {
        Interlocked.Add(ref _live, n);
        if (_parent is null)
        {
            Interlocked.Add(ref s_total, n);
        }
        else
        {
            _parent.Add(n);
        }
    }
}
