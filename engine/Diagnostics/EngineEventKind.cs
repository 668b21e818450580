namespace LowLatency.Engine.Diagnostics;

/// <summary>What an <see cref="EngineEvent"/> reports: the host's log names its event after it.</summary>
public enum EngineEventKind
{
    /// <summary>libtorch loaded, and how (the libstdc++ fix applied or not).</summary>
    Runtime = 1,

    /// <summary>The engine threads' nice value, or the workers' realtime priority, applied or refused by the OS.</summary>
    ThreadPriority,

    /// <summary>A model version built, warmed up and published.</summary>
    VersionLoaded,

    /// <summary>A load or reload failed; what served before serves on.</summary>
    LoadFailed,

    /// <summary>A model taken out of routing (unloaded, or gone from the repository).</summary>
    Unloaded,

    /// <summary>A retired version answered its last request and freed its native memory.</summary>
    VersionReleased,

    /// <summary>A model's traffic split set through the API.</summary>
    TrafficSet,

    /// <summary>A repository poll could not read the repository.</summary>
    PollFailed,

    /// <summary>The cores device workers are pinned to, and whether the runtime counts them.</summary>
    WorkerCores,

    /// <summary>A version's instance count changed at run time (the API or its autoscaler).</summary>
    InstancesChanged,

    /// <summary>An autoscaler's decision to add or remove an instance, with its reason.</summary>
    AutoscaleDecision,
}
