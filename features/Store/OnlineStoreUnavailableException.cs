namespace LowLatency.Features.Store;

/// <summary>An online store could not be reached (down, timed out, a cluster node failing over).</summary>
public sealed class OnlineStoreUnavailableException(string store, string message, Exception? inner = null)
    : Exception($"online store \"{store}\": {message}", inner)
{
    public string Store { get; } = store;
}
