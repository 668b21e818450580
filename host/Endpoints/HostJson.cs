using System.Text.Json;
using System.Text.Json.Serialization;
using LowLatency.Engine.Config;

namespace LowLatency.Host.Endpoints;

/// <summary>Source-generated JSON for the metadata documents (snake_case, as KServe writes them).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(LiveResponse))]
[JsonSerializable(typeof(ReadyResponse))]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(ModelReady))]
internal sealed partial class HostJson : JsonSerializerContext
{
    /// <summary>The documents as the server writes them: escaping only what JSON requires (<see cref="MinimalJsonEncoder"/>), as every answer does.</summary>
    public static HostJson Answers { get; } = new(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = MinimalJsonEncoder.Instance });
}
