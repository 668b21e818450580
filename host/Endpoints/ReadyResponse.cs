namespace LowLatency.Host.Endpoints;

/// <summary><c>GET /v2/health/ready</c>.</summary>
internal sealed record ReadyResponse(bool Ready);
