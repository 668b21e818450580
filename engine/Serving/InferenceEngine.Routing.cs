using System.Globalization;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;

namespace LowLatency.Engine.Serving;

/// <summary>Routing: from a model name (and version, and routing key) to a version holding a reference.</summary>
public sealed partial class InferenceEngine
{
    /// <summary>
    /// Routes a request: the named version, or one chosen by the model's traffic split (by
    /// <paramref name="routingKey"/> when not empty), or the fallback when no version is healthy.
    /// On success the version holds a reference for the request until <see cref="Routed.Release"/>,
    /// so a reload or unload that retires it waits for the request. Lock-free: a version retired
    /// between reading the table and taking the reference is simply routed again on the new table.
    /// </summary>
    public InferenceStatus Route(string name, string? version, ReadOnlySpan<char> routingKey, out Routed routed, out string? error)
    {
        bool hasKey = !routingKey.IsEmpty;
        ulong keyHash = hasKey ? RoutingKey.Hash(routingKey) : 0;
        if (!TryParseVersion(version, out long wanted, out error))
        {
            routed = default;
            return InferenceStatus.BadRequest;
        }

        // A retire is published before it happens, so a retry reads the table without the version:
        // two rounds suffice unless reloads of the same model keep racing this request.
        for (int attempt = 0; attempt < 64; attempt++)
        {
            var status = TryRoute(name, wanted, hasKey, keyHash, fallbackDepth: 0, out routed, out error);
            if (status != InferenceStatus.Ok || routed.Version.TryAcquire())
            {
                if (status == InferenceStatus.Ok)
                {
                    EngineMetrics.RecordRoute(routed.Version, routed.Kind);
                }

                return status;
            }
        }

        return Busy(name, out routed, out error);
    }

    private InferenceStatus TryRoute(string name, long wanted, bool hasKey, ulong keyHash, int fallbackDepth, out Routed routed, out string? error)
    {
        routed = default;
        error = null;
        if (!_models.TryGetValue(name, out var served))
        {
            error = $"unknown model {ClientText.Quoted(name)}";
            return InferenceStatus.NotFound;
        }

        if (wanted != 0)
        {
            if (!served.Versions.TryGetValue(wanted, out var exact))
            {
                error = NoSuchVersion(served, wanted);
                return InferenceStatus.NotFound;
            }

            routed = new Routed(exact, RouteKind.Version, null, null);
            return InferenceStatus.Ok;
        }

        var picked = served.Pick(hasKey, keyHash);
        if (picked is not null)
        {
            routed = new Routed(picked, hasKey ? RouteKind.Key : RouteKind.Split, null, null);
            return InferenceStatus.Ok;
        }

        return Fallback(served, hasKey, keyHash, fallbackDepth, out routed, out error);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private InferenceStatus Fallback(ServedModel served, bool hasKey, ulong keyHash, int depth, out Routed routed, out string? error)
    {
        routed = default;
        string why = $"no healthy version of model '{served.Name}'";
        if (served.FixedAnswer is { } answer)
        {
            // The request is still decoded and validated against the model (bad input stays a 400).
            routed = new Routed(served.Latest, RouteKind.FallbackResponse, answer, why + ": fixed fallback answer");
            error = null;
            return InferenceStatus.Ok;
        }

        if (served.Config.Fallback?.Model is { } other && depth == 0)
        {
            // One hop only: a fallback's own fallback is not followed, so a cycle cannot hang.
            var status = TryRoute(other, 0, hasKey, keyHash, depth + 1, out var via, out error);
            if (status == InferenceStatus.Ok && via.FixedAnswer is null)
            {
                routed = new Routed(via.Version, RouteKind.FallbackModel, null, $"{why}: answered by model '{other}'");
                return status;
            }

            error = $"{why}, and the fallback model '{other}' cannot answer: {error ?? "it has no healthy version either"}";
            return InferenceStatus.Unavailable;
        }

        error = why + " (all ejected by the circuit breaker; none is configured as fallback): retry later";
        return InferenceStatus.Unavailable;
    }

    /// <summary>
    /// The version a request about a model names (metadata, readiness, configuration, statistics):
    /// that version, or the latest served when it names none. No traffic split, no fallback and no
    /// reference taken: what it describes is read at once. Ok, NotFound (checked first, the model,
    /// then the version) or BadRequest (a version that is not a positive integer), with the same
    /// messages as <see cref="Route"/>.
    /// </summary>
    public InferenceStatus Find(string name, string? version, out ModelVersion model, out string? error)
    {
        model = null!;
        if (!_models.TryGetValue(name, out var served))
        {
            error = $"unknown model {ClientText.Quoted(name)}";
            return InferenceStatus.NotFound;
        }

        if (!TryParseVersion(version, out long wanted, out error))
        {
            return InferenceStatus.BadRequest;
        }

        if (wanted == 0)
        {
            model = served.Latest;
            return InferenceStatus.Ok;
        }

        if (!served.Versions.TryGetValue(wanted, out model!))
        {
            error = NoSuchVersion(served, wanted);
            return InferenceStatus.NotFound;
        }

        return InferenceStatus.Ok;
    }

    /// <summary>A version as a URL names it: absent (0), or a positive integer.</summary>
    private static bool TryParseVersion(string? version, out long wanted, out string? error)
    {
        wanted = 0;
        error = null;
        if (version is null || (long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out wanted) && wanted >= 1))
        {
            return true;
        }

        error = $"version {ClientText.Quoted(version)} is not a positive integer";
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string NoSuchVersion(ServedModel served, long wanted) =>
        $"model '{served.Name}' has no version {wanted} being served; served: {string.Join(", ", served.Versions.Keys)}";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InferenceStatus Busy(string name, out Routed routed, out string? error)
    {
        routed = default;
        error = $"model {ClientText.Quoted(name)} is being reloaded too often to route this request; retry";
        return InferenceStatus.Unavailable;
    }
}
