using System.Diagnostics;
using LowLatency.Client;
using LowLatency.Engine.Serving;
using EngineStatus = LowLatency.Engine.Requests.InferenceStatus;

namespace LowLatency.Gateway.Routing;

/// <summary>
/// A request an alias sent to a remote backend, to its answer. The retry policy (docs/gateway.md#remote-backends):
/// an attempt has the backend's <c>timeout_milliseconds</c>, cut to what is left of the alias's
/// <c>deadline_milliseconds</c> since the request arrived. An attempt fails when the backend cannot be
/// reached, times out, or answers 404, 429 or 5xx; it counts as the backend's error. A failed attempt
/// is retried, at most <c>retries</c> times and only while the deadline leaves time, on the next backend
/// that takes traffic (remote or local), never on the same one, and only when the failed backend is
/// <c>idempotent</c> or the failure shows the request never ran (not connected, 404, 429, 503). With
/// the retries spent, a local backend of the alias answers if there is one (whatever its weight: its
/// model's fallback and fixed answer apply), under the same condition. A client's mistake (another
/// 4xx) is the answer, not a failure.
/// </summary>
public static class RemoteForward
{
    public static async Task<ForwardOutcome> RunAsync(InferenceEngine engine, BackendCall call, ForwardRequest request, CancellationToken aborted)
    {
        var router = call.Router;
        var alias = router.Definition;
        long deadline = request.ArrivedTimestamp + (long)(alias.DeadlineMilliseconds * Stopwatch.Frequency / 1000);
        int retries = alias.Retries;
        ulong tried = 1UL << call.Backend;
        string? error;
        while (true)
        {
            var remote = router.RemoteOf(call.Backend);
            double leftMs = (deadline - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
            bool ran;
            if (leftMs <= 0)
            {
                call.Finish(ok: false);
                return new ForwardOutcome(null, default, default, false, EngineStatus.DeadlineExceeded, Expired(alias));
            }

            double timeoutMs = Math.Min(remote.Endpoint.TimeoutMilliseconds, leftMs);
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(aborted))
            {
                timer.CancelAfter(TimeSpan.FromMilliseconds(timeoutMs));
                ForwardedAnswer? answer = null;
                try
                {
                    answer = request.Face == RemoteFace.Grpc
                        ? await remote.SendGrpcAsync(request.Body, request.Headers, DateTime.UtcNow.AddMilliseconds(timeoutMs), timer.Token).ConfigureAwait(false)
                        : await remote.SendAsync(request.Body, request.ContentType, request.JsonLength, request.Headers, timer.Token).ConfigureAwait(false);
                    if (!IsFailure(answer.StatusCode))
                    {
                        call.Finish(ok: true);
                        return new ForwardOutcome(answer, call, default, false, EngineStatus.Ok, null);
                    }

                    ran = answer.StatusCode is not (404 or 429 or 503);
                    error = answer.GrpcStatus is { } grpc
                        ? $"backend '{alias.Backends[call.Backend].Name}' answered gRPC status {grpc}: {answer.GrpcMessage}"
                        : $"backend '{alias.Backends[call.Backend].Name}' answered HTTP {answer.StatusCode}";
                    answer.Dispose();
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    answer?.Dispose();
                    ran = true;
                    error = $"backend '{alias.Backends[call.Backend].Name}' did not answer within {timeoutMs:0.#} ms";
                }
                catch (InferenceException e)
                {
                    ran = !e.IsSafeToRetry;
                    error = $"backend '{alias.Backends[call.Backend].Name}': {e.Message}";
                }
            }

            call.Finish(ok: false);
            if (aborted.IsCancellationRequested)
            {
                return new ForwardOutcome(null, default, default, false, EngineStatus.Cancelled, "the client went away");
            }

            if (ran && !alias.Backends[call.Backend].Remote!.Idempotent)
            {
                // It may have run: a stateful model is not asked twice.
                return new ForwardOutcome(null, default, default, false, EngineStatus.Unavailable, error + "; not retried (the backend is not idempotent)");
            }

            bool retry = retries > 0 && Stopwatch.GetTimestamp() < deadline;
            var status = router.RouteAfter(engine, call.Backend, ref tried, retry, request.RoutingKey, request.Face, out var routed, out var next, out string? routeError);
            if (status != EngineStatus.Ok)
            {
                return new ForwardOutcome(null, default, default, false, EngineStatus.Unavailable, $"{error}; {routeError}");
            }

            if (!next.IsRemote)
            {
                return new ForwardOutcome(null, next, routed, true, EngineStatus.Ok, null);
            }

            retries--;
            call = next;
        }
    }

    /// <summary>What a remote answer says of its backend: 5xx, 429 (overloaded) and 404 (the model not served there) are the backend's failures.</summary>
    private static bool IsFailure(int status) => status >= 500 || status is 404 or 429;

    private static string Expired(Config.AliasDefinition alias) =>
        $"alias '{alias.Name}': no backend answered within its deadline_milliseconds ({alias.DeadlineMilliseconds} ms)";
}
