namespace LowLatency.Host.Endpoints;

/// <summary><c>GET /v2/models/{name}[/versions/{v}]</c>: a model's versions, platform and tensors.</summary>
internal sealed record ModelMetadata(string Name, List<string> Versions, string Platform, List<TensorMetadata> Inputs, List<TensorMetadata> Outputs);
