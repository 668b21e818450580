namespace LowLatency.Host.Endpoints;

/// <summary><c>GET /v2/models/{name}[/versions/{v}]/ready</c>.</summary>
internal sealed record ModelReady(string Name, bool Ready);
