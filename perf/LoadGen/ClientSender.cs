using System.Diagnostics;
using System.Net;
using LowLatency.Client;

namespace LowLatency.LoadGen;

/// <summary>
/// Requests through LowLatency.Client (--transport grpc, or --transport http --client): the golden
/// case's tensors encoded by the client on every call, the answer decoded into a pooled result
/// and disposed, as an application would. Status codes are recorded as HTTP's (a gRPC code as its
/// HTTP equivalent, 0 for an unreachable server); Server-Timing from the result.
/// </summary>
internal sealed class ClientSender(InferenceClient client, string model, InferInput[] inputs, InferOptions options, Measurement measurement) : ISender
{
    public async Task SendAsync(long startedAt, long warmupEnd)
    {
        int status = 200;
        LowLatency.Client.ServerTiming timing = default;
        try
        {
            using var result = await client.InferAsync(model, inputs, options).ConfigureAwait(false);
            timing = result.ServerTiming;
        }
        catch (InferenceException e)
        {
            status = e.HttpStatus is { } http ? (int)http : Equivalent(e.Status);
        }

        if (startedAt >= warmupEnd)
        {
            measurement.Record((Stopwatch.GetTimestamp() - startedAt) * 1_000_000 / Stopwatch.Frequency, status, timing);
        }
    }

    private static int Equivalent(InferenceStatus status) => status switch
    {
        InferenceStatus.InvalidArgument => (int)HttpStatusCode.BadRequest,
        InferenceStatus.Unauthenticated => (int)HttpStatusCode.Unauthorized,
        InferenceStatus.PermissionDenied => (int)HttpStatusCode.Forbidden,
        InferenceStatus.NotFound => (int)HttpStatusCode.NotFound,
        InferenceStatus.DeadlineExceeded => (int)HttpStatusCode.GatewayTimeout,
        InferenceStatus.ResourceExhausted => (int)HttpStatusCode.TooManyRequests,
        InferenceStatus.Internal => (int)HttpStatusCode.InternalServerError,
        InferenceStatus.Unavailable => 0,
        _ => 1,
    };
}
