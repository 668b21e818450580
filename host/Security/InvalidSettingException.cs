namespace LowLatency.Host.Security;

/// <summary>
/// A security setting that cannot take effect as written (a file that does not load, a key too
/// short for its algorithm); the message names the setting and never repeats a secret. The host's
/// top turns it into a refusal to start.
/// </summary>
internal sealed class InvalidSettingException(string message) : Exception(message);
