namespace LowLatency.Engine.Serving;

/// <summary>How models come and go (Triton's <c>--model-control-mode</c>), set by <c>LowLatency:ModelControlMode</c>.</summary>
public enum ModelControlMode
{
    /// <summary>Every model in the repository is loaded at start; the repository API may load and unload.</summary>
    All,

    /// <summary>Only <see cref="EngineOptions.StartupModels"/> are loaded at start; the rest through the repository API.</summary>
    Explicit,

    /// <summary>Everything at start, then the repository is polled: new, changed and removed models follow the files. The API may not load or unload.</summary>
    Poll,
}
