namespace LowLatency.Host;

/// <summary>HTTP-side settings, bound from the <c>LowLatency</c> configuration section.</summary>
public sealed class ServerOptions
{
    /// <summary>Largest request body accepted; larger ones get 413 before they are read whole.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L << 20;

    /// <summary>
    /// On SIGTERM, how long accepted requests may take to be answered before the process stops
    /// anyway (the host's shutdown timeout).
    /// </summary>
    public double DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>Serve unauthenticated clients on addresses other than loopback (refused at start otherwise).</summary>
    public bool AllowInsecure { get; set; }
}
