using System.Buffers;
using LowLatency.Client;

namespace LowLatency.Gateway.Routing;

/// <summary>
/// A request for a remote backend, as its face read it: the body as its client encoded it (over
/// gRPC, the <c>ModelInferRequest</c> message without its prefix), borrowed from the face's buffers,
/// and its lease (every attempt reads the body within it: the face gives the body back only once the
/// lease is closed and drained, which may be after an abandoned attempt's call has ended), its encoding, the headers passed
/// on (routing key, trace context), when it arrived (the alias's deadline counts from there), the
/// face it came through, which says how it is forwarded, and the client's own deadline where its
/// call carries one (<see cref="System.Diagnostics.Stopwatch"/> timestamp; 0: none), which caps the alias's.
/// </summary>
public readonly record struct ForwardRequest(
    ReadOnlySequence<byte> Body,
    BodyLease Lease,
    string ContentType,
    string? JsonLength,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    string? RoutingKey,
    long ArrivedTimestamp,
    RemoteFace Face = RemoteFace.Http,
    long ClientDeadlineTimestamp = 0);

