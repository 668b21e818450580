namespace LowLatency.Host.Security;

internal sealed class ApiKeyOptions
{
    public string Key { get; set; } = string.Empty;

    public string Subject { get; set; } = string.Empty;

    public string[] Scopes { get; set; } = [];
}
