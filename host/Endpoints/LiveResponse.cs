namespace LowLatency.Host.Endpoints;

/// <summary><c>GET /v2/health/live</c>.</summary>
internal sealed record LiveResponse(bool Live);
