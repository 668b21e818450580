namespace LowLatency.Host.Endpoints;

/// <summary><c>GET /v2</c>: the server's name, version and protocol extensions.</summary>
internal sealed record ServerMetadata(string Name, string Version, string[] Extensions);
