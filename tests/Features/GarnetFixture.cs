using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Tests.Features;

/// <summary>One Garnet in this process, as the embedded default runs it, reached as a Redis so that many stores share it.</summary>
public sealed class GarnetFixture : IStoreFixture
{
    private readonly EmbeddedGarnet _garnet = EmbeddedGarnet.Start();

    public OnlineStoreDefinition Store(string name = "default") =>
        new() { Name = name, Kind = OnlineStoreKind.Redis, ConnectionString = _garnet.ConnectionString };

    public void Dispose() => _garnet.Dispose();
}
