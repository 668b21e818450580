namespace LowLatency.Host;

/// <summary>The server's settings make it unsafe or impossible to start; the message says what to change.</summary>
internal sealed class StartupRefusedException(string message) : Exception(message);
