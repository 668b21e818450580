using System.Globalization;
using LowLatency.Features.Definitions;

namespace LowLatency.Tests.Features;

/// <summary>One redis-server child process on a free loopback port, no persistence.</summary>
public sealed class RedisServerFixture : IStoreFixture
{
    public RedisServerFixture()
    {
        Server = new RedisServerProcess(LoopbackPorts.Free());
        Server.Start();
    }

    internal RedisServerProcess Server { get; }

    public OnlineStoreDefinition Store(string name = "default") =>
        new() { Name = name, Kind = OnlineStoreKind.Redis, ConnectionString = "127.0.0.1:" + Server.Port.ToString(CultureInfo.InvariantCulture) };

    public void Dispose() => Server.Dispose();
}
