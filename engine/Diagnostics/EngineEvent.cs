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
}

/// <summary>
/// One thing the engine tells its host's log, with the model and version as fields of their own, so
/// that a JSON log can be filtered and alerted on by model, and by <see cref="IsWarning"/>: a failed
/// reload leaves the old version serving, which an operator must still hear about.
/// </summary>
/// <param name="Model">The model it concerns, or null.</param>
/// <param name="Version">The version it concerns, or null.</param>
/// <param name="Message">The whole story in words, model and version included.</param>
/// <param name="IsWarning">Something went wrong or is not as configured; otherwise information.</param>
public readonly record struct EngineEvent(EngineEventKind Kind, string? Model, string? Version, string Message, bool IsWarning = false);
