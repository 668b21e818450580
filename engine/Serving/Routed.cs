using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Routing;

namespace LowLatency.Engine.Serving;

/// <summary>A routed request: the version it runs on (a reference the caller gives back with <see cref="Release"/>) and how it got there.</summary>
public readonly struct Routed
{
    internal Routed(ModelVersion version, RouteKind kind, FixedAnswer? fixedAnswer, string? degraded)
    {
        Version = version;
        Kind = kind;
        FixedAnswer = fixedAnswer;
        Degraded = degraded;
    }

    public ModelVersion Version { get; }

    public RouteKind Kind { get; }

    /// <summary>Set when the request is to be answered with the model's fixed fallback instead of running.</summary>
    public FixedAnswer? FixedAnswer { get; }

    /// <summary>Why the answer is degraded (a fallback applied); null for a normal answer.</summary>
    public string? Degraded { get; }

    public void Release() => Version.Release();
}
