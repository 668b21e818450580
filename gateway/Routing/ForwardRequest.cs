using System.Buffers;

namespace LowLatency.Gateway.Routing;

/// <summary>
/// A request for a remote backend, as its face read it: the body as its client encoded it, its
/// encoding, the headers passed on (routing key, trace context), and when it arrived (the alias's
/// deadline counts from there).
/// </summary>
public readonly record struct ForwardRequest(
    ReadOnlySequence<byte> Body,
    string ContentType,
    string? JsonLength,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    string? RoutingKey,
    long ArrivedTimestamp);
