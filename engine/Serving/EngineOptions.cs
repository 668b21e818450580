namespace LowLatency.Engine.Serving;

/// <summary>Engine settings; the host binds them from the <c>LowLatency</c> configuration section.</summary>
public sealed class EngineOptions
{
    /// <summary>The model repository directory.</summary>
    public string ModelRepository { get; set; } = "models";

    /// <summary>
    /// libtorch's intra-op thread pool size (process-wide). Default 1: on a small host (2 cores here)
    /// the device worker and Kestrel's I/O already want both cores, and a parallel region for a
    /// microsecond-scale kernel costs more in wake-ups than it saves. On a many-core host with large
    /// batches (the image classifier), raise it to the cores each worker may own.
    /// </summary>
    public int IntraOpThreads { get; set; } = 1;
}
