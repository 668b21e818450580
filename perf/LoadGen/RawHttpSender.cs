namespace LowLatency.LoadGen;

/// <summary>
/// The load generator's own HTTP path (--transport http, the default): a request body built once,
/// posted as is, the answer buffered and not decoded. What every earlier run measured.
/// </summary>
internal sealed class RawHttpSender(HttpClient client, string url, RequestBody body, Measurement measurement, bool shareContent) : ISender
{
    // The closed loop's clients each reuse one content (as they always have); the open loop makes one per request.
    private readonly HttpContent? _shared = shareContent ? body.Content() : null;

    public Task SendAsync(long startedAt, long warmupEnd) =>
        measurement.SendAsync(client, url, _shared ?? body.Content(), startedAt, warmupEnd);
}
