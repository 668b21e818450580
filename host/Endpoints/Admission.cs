using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Memory;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// What an inference request holds from its admission to its end, and gives back in <see cref="End"/>:
/// the route's reference to the version it runs on (<see cref="IsRouted"/>), the alias backend's call,
/// whose outcome its weights follow, and its place in the body budget (<see cref="Reservation"/>; 0:
/// none). <see cref="Counted"/> is the model its response is counted under: a name the server serves,
/// or null for unknown, so that clients cannot grow the label set. A mutable struct on purpose: it
/// lives in the endpoint's state machine, which every request allocates once it waits, and adds
/// nothing to it.
/// </summary>
internal struct Admission
{
    public const string Unknown = "unknown";

    public Routed Routed;
    public bool IsRouted;
    public BackendCall Call;
    public string? Counted;
    public long Reservation;

    /// <summary>The request now runs on a local backend, the route's reference its own.</summary>
    public void RunLocally(in Routed routed, BackendCall call)
    {
        (Routed, Call, IsRouted, Counted) = (routed, call, true, routed.Version.Config.Name);
    }

    /// <summary>
    /// Gives back what the request held, after the request went back to its pool and its outputs were
    /// released (a retired version frees its native memory only once its last routed request lets go,
    /// and Kestrel has the body's buffers back), and counts the response.
    /// </summary>
    public readonly void End(HttpContext ctx, BodyBudget bodies, Unanswered unanswered, bool stopping)
    {
        if (IsRouted)
        {
            Routed.Release();
        }

        if (Call.IsSet)
        {
            // What the alias's weights follow: server-side failures count, a client's mistakes do not.
            Call.Finish(ctx.Response.StatusCode < StatusCodes.Status500InternalServerError);
        }

        if (Reservation != 0)
        {
            bodies.Release(Reservation);
            unanswered.CountIfCut(ctx, stopping);
        }

        HostMetrics.RecordResponse(Counted ?? Unknown, ctx.Response.StatusCode);
    }
}
