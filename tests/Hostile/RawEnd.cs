namespace LowLatency.Tests.Hostile;

/// <summary>How a raw request's client ends its sending side.</summary>
internal enum RawEnd
{
    /// <summary>Keeps the connection open and reads until the server closes it or the time is up.</summary>
    KeepOpen,

    /// <summary>Stops sending (FIN) and reads the answer.</summary>
    HalfClose,

    /// <summary>Resets the connection right after sending.</summary>
    Reset,
}
