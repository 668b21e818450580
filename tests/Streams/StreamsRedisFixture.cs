using LowLatency.Tests.Features;
using StackExchange.Redis;

namespace LowLatency.Tests.Streams;

/// <summary>One redis-server (the features tests' child process, no persistence) shared by a test class; each test uses streams of its own.</summary>
public sealed class StreamsRedisFixture : IDisposable
{
    public StreamsRedisFixture()
    {
        if (!RedisServerProcess.Installed)
        {
            return;
        }

        Server = new RedisServerProcess(LoopbackPorts.Free());
        Server.Start();
        Connection = ConnectionMultiplexer.Connect($"127.0.0.1:{Server.Port}");
    }

    internal RedisServerProcess? Server { get; }

    public ConnectionMultiplexer? Connection { get; }

    public int Port => Server!.Port;

    public IDatabase Db => Connection!.GetDatabase();

    public string ConnectionString => $"127.0.0.1:{Port}";

    public void Dispose()
    {
        Connection?.Dispose();
        Server?.Dispose();
    }
}
