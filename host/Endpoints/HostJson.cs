using System.Text.Json.Serialization;

namespace LowLatency.Host.Endpoints;

/// <summary>Source-generated JSON for the metadata documents (snake_case, as KServe writes them).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(LiveResponse))]
[JsonSerializable(typeof(ReadyResponse))]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(ModelReady))]
internal sealed partial class HostJson : JsonSerializerContext;
