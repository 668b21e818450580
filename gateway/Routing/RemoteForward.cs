using System.Diagnostics;
using LowLatency.Client;
using LowLatency.Engine.Serving;
using EngineStatus = LowLatency.Engine.Requests.InferenceStatus;

namespace LowLatency.Gateway.Routing;

/// <summary>
/// A request an alias sent to a remote backend, to its answer. The retry policy (docs/gateway.md#remote-backends):
/// an attempt has the backend's <c>timeout_milliseconds</c>, cut to what is left of the alias's
/// <c>deadline_milliseconds</c> since the request arrived, or of the client's own deadline when that
/// is earlier (a gRPC call's <c>grpc-timeout</c>). An attempt fails when the backend cannot be
/// reached, times out, or answers 404, 429 or 5xx; it counts as the backend's error. A failed attempt
/// is retried, at most <c>retries</c> times and only while the deadline leaves time, on the next backend
/// that takes traffic (remote or local), never on the same one, and only when the failed backend is
/// <c>idempotent</c> or the failure shows the request never ran (not connected, 404, 429, 503). With
/// the retries spent, a local backend of the alias answers if there is one (whatever its weight: its
/// model's fallback and fixed answer apply), under the same condition. A client's mistake (another
/// 4xx) is the answer, not a failure. With <c>hedge_after_milliseconds</c>, an idempotent attempt still
/// running after that long is hedged instead (docs/gateway.md#hedging).
/// </summary>
public static class RemoteForward
{
    public static async Task<ForwardOutcome> RunAsync(InferenceEngine engine, BackendCall call, ForwardRequest request, CancellationToken aborted)
    {
        var router = call.Router;
        var alias = router.Definition;
        long deadline = request.ArrivedTimestamp + (long)(alias.DeadlineMilliseconds * Stopwatch.Frequency / 1000);
        bool clientDeadline = request.ClientDeadlineTimestamp != 0 && request.ClientDeadlineTimestamp < deadline;
        if (clientDeadline)
        {
            deadline = request.ClientDeadlineTimestamp;
        }

        int retries = alias.Retries;
        ulong tried = 1UL << call.Backend;
        while (true)
        {
            if (LeftMs(deadline) <= 0)
            {
                // A client's own short deadline is not the backend's failure: counted, a client could
                // have every backend ejected by asking for a microsecond.
                if (!clientDeadline)
                {
                    call.Finish(ok: false);
                }

                return new ForwardOutcome(null, default, default, false, EngineStatus.DeadlineExceeded, clientDeadline ? ClientExpired(alias) : Expired(alias));
            }

            Attempt attempt;
            if (alias.HedgeAfterMilliseconds is { } hedge && retries > 0 && alias.Backends[call.Backend].Remote!.Idempotent)
            {
                (attempt, call, bool hedged) = await HedgedAsync(router, call, request, deadline, hedge, tried, aborted).ConfigureAwait(false);
                if (hedged)
                {
                    // Both backends are spent: the hedge was the request's further attempt.
                    retries--;
                    tried |= attempt.Tried;
                }
            }
            else
            {
                attempt = await AttemptAsync(router, call, request, deadline, aborted, default).ConfigureAwait(false);
            }

            if (attempt.Answer is { } answer)
            {
                return new ForwardOutcome(answer, call, default, false, EngineStatus.Ok, null);
            }

            if (aborted.IsCancellationRequested)
            {
                return new ForwardOutcome(null, default, default, false, EngineStatus.Cancelled, "the client went away");
            }

            if (clientDeadline && (attempt.DeadlineCut || LeftMs(deadline) <= 0))
            {
                // The client's deadline, not the backend, ended the attempt: its answer says so.
                return new ForwardOutcome(null, default, default, false, EngineStatus.DeadlineExceeded, $"{ClientExpired(alias)} ({attempt.Error})");
            }

            if (attempt.Ran && !alias.Backends[call.Backend].Remote!.Idempotent)
            {
                // It may have run: a stateful model is not asked twice.
                return new ForwardOutcome(null, default, default, false, EngineStatus.Unavailable, attempt.Error + "; not retried (the backend is not idempotent)");
            }

            bool retry = retries > 0 && Stopwatch.GetTimestamp() < deadline;
            var status = router.RouteAfter(engine, call.Backend, ref tried, retry, request.RoutingKey, request.Face, out var routed, out var next, out string? routeError);
            if (status != EngineStatus.Ok)
            {
                return new ForwardOutcome(null, default, default, false, EngineStatus.Unavailable, $"{attempt.Error}; {routeError}");
            }

            if (!next.IsRemote)
            {
                return new ForwardOutcome(null, next, routed, true, EngineStatus.Ok, null);
            }

            retries--;
            call = next;
        }
    }

    /// <summary>
    /// One attempt on <paramref name="call"/>'s backend, counted in its window: an answer that is not a
    /// failure, or why it failed and whether it may have run. Cancelled by <paramref name="lost"/> (the
    /// hedge's other attempt answered first): no answer, no error, its time so far counted as an
    /// answer's, the least the backend is known to take. A client gone throws.
    /// </summary>
    private static async Task<Attempt> AttemptAsync(AliasRouter router, BackendCall call, ForwardRequest request, long deadline, CancellationToken aborted, CancellationToken lost)
    {
        var remote = router.RemoteOf(call.Backend);
        string name = router.Definition.Backends[call.Backend].Name;
        double timeoutMs = Math.Max(0, Math.Min(remote.Endpoint.TimeoutMilliseconds, LeftMs(deadline)));
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(aborted, lost);
        timer.CancelAfter(TimeSpan.FromMilliseconds(timeoutMs));
        ForwardedAnswer? answer = null;
        try
        {
            answer = request.Face == RemoteFace.Grpc
                ? await remote.SendGrpcAsync(request.Body, request.Lease, request.Headers, DateTime.UtcNow.AddMilliseconds(timeoutMs), timer.Token).ConfigureAwait(false)
                : await remote.SendAsync(request.Body, request.Lease, request.ContentType, request.JsonLength, request.Headers, timer.Token).ConfigureAwait(false);
            if (!IsFailure(answer.StatusCode))
            {
                call.Finish(ok: true);
                return new Attempt(answer, true, null, 0);
            }

            string error = answer.GrpcStatus is { } grpc
                ? $"backend '{name}' answered gRPC status {grpc}: {answer.GrpcMessage}"
                : $"backend '{name}' answered HTTP {answer.StatusCode}";
            bool ran = answer.StatusCode is not (404 or 429 or 503);
            answer.Dispose();
            call.Finish(ok: false);
            return new Attempt(null, ran, error, 0);
        }
        catch (Exception e) when (e is OperationCanceledException or InferenceException && lost.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            // Lost, whatever the cancellation made of the call: one whose body was already given back
            // (its lease closed before it began to send) fails rather than reads it.
            answer?.Dispose();
            call.Finish(ok: true);
            return new Attempt(null, true, null, 0);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            answer?.Dispose();
            bool cut = timeoutMs < remote.Endpoint.TimeoutMilliseconds;
            // Cut at the client's own deadline (the deadline is the client's when it is the earlier):
            // not the backend's failure, so not counted in its window.
            if (!(cut && deadline == request.ClientDeadlineTimestamp))
            {
                call.Finish(ok: false);
            }

            return new Attempt(null, true, $"backend '{name}' did not answer within {timeoutMs:0.#} ms", 0, DeadlineCut: cut);
        }
        catch (InferenceException e)
        {
            call.Finish(ok: false);
            return new Attempt(null, !e.IsSafeToRetry, $"backend '{name}': {e.Message}", 0);
        }
    }

    /// <summary>
    /// The first attempt, and once it has run <paramref name="hedgeMs"/> without an answer, a second on
    /// another remote backend that takes traffic (<see cref="AliasRouter.HedgeTarget"/>), both running:
    /// the first answer that is not a failure wins, the other is cancelled (its answer, should it come
    /// anyway, is disposed). <c>hedged</c>: a second attempt was sent; then the result names its backend
    /// in <see cref="Attempt.Tried"/>, and when both failed, the one that failed last is the call returned.
    /// </summary>
    private static async Task<(Attempt Attempt, BackendCall Call, bool Hedged)> HedgedAsync(AliasRouter router, BackendCall call, ForwardRequest request, long deadline, double hedgeMs, ulong tried, CancellationToken aborted)
    {
        using var lostFirst = new CancellationTokenSource();
        var first = AttemptAsync(router, call, request, deadline, aborted, lostFirst.Token);
        double wait = Math.Min(hedgeMs, LeftMs(deadline));
        if (wait > 0)
        {
            using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            var delay = Task.Delay(TimeSpan.FromMilliseconds(wait), stopWaiting.Token);
            if (await Task.WhenAny(first, delay).ConfigureAwait(false) == first)
            {
                stopWaiting.Cancel();
                return (await first.ConfigureAwait(false), call, false);
            }
        }

        if (aborted.IsCancellationRequested || !router.HedgeTarget(call.Backend, tried, request.Face, out var second))
        {
            return (await first.ConfigureAwait(false), call, false);
        }

        using var lostSecond = new CancellationTokenSource();
        var hedge = AttemptAsync(router, second, request, deadline, aborted, lostSecond.Token);
        ulong both = 1UL << second.Backend;
        var done = await Task.WhenAny(first, hedge).ConfigureAwait(false);
        var (other, otherCall, otherLost) = done == first ? (hedge, second, lostSecond) : (first, call, lostFirst);
        var doneCall = done == first ? call : second;
        var result = await done.ConfigureAwait(false);
        if (result.Answer is not null)
        {
            // Not awaited: the winner's answer does not wait for the loser to notice its cancellation.
            // The body it may still be writing stays the face's until the request's lease is drained.
            otherLost.Cancel();
            _ = DisposeAnswer(other);
            return (result with { Tried = both }, doneCall, true);
        }

        var last = await other.ConfigureAwait(false);
        if (last.Answer is not null)
        {
            return (last with { Tried = both }, otherCall, true);
        }

        return (new Attempt(null, result.Ran || last.Ran, $"{result.Error}; hedged: {last.Error}", both), otherCall, true);
    }

    /// <summary>The lost attempt ends promptly once cancelled; an answer that came anyway goes back to the pool.</summary>
    private static async Task DisposeAnswer(Task<Attempt> attempt)
    {
        try
        {
            (await attempt.ConfigureAwait(false)).Answer?.Dispose();
        }
        catch (OperationCanceledException)
        {
            // The client went away as well: nothing to give back.
        }
    }

    private static double LeftMs(long deadline) => (deadline - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;

    /// <summary>What a remote answer says of its backend: 5xx, 429 (overloaded) and 404 (the model not served there) are the backend's failures.</summary>
    private static bool IsFailure(int status) => status >= 500 || status is 404 or 429;

    private static string Expired(Config.AliasDefinition alias) =>
        $"alias '{alias.Name}': no backend answered within its deadline_milliseconds ({alias.DeadlineMilliseconds} ms)";

    private static string ClientExpired(Config.AliasDefinition alias) =>
        $"alias '{alias.Name}': no backend answered within the call's deadline";


    /// <summary>An attempt's end: the answer (not a failure), or why it failed and whether it may have run; <see cref="Tried"/>: backends a hedge spent.</summary>
    /// <param name="DeadlineCut">It timed out at the request's deadline, not the backend's own timeout (a timer may fire a moment before the deadline's clock says so).</param>
    private readonly record struct Attempt(ForwardedAnswer? Answer, bool Ran, string? Error, ulong Tried, bool DeadlineCut = false);
}
