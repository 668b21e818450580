using System.Diagnostics;
using System.Globalization;
using LowLatency.Features.Definitions;

namespace LowLatency.Tests.Features;

/// <summary>
/// A three-master Redis Cluster of child processes on loopback (no replicas, no persistence), made
/// with <c>redis-cli --cluster create</c>. A node that is down leaves the others serving their slots
/// (<c>cluster-require-full-coverage no</c>), and one restarted in its folder rejoins with its slots
/// (its nodes.conf), empty.
/// </summary>
public sealed class RedisClusterFixture : IStoreFixture
{
    public RedisClusterFixture()
    {
        Nodes = new RedisServerProcess[3];
        try
        {
            for (int i = 0; i < Nodes.Length; i++)
            {
                Nodes[i] = new RedisServerProcess(LoopbackPorts.FreeForCluster(), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000", "--cluster-require-full-coverage", "no");
                Nodes[i].Start();
            }

            string output = RedisServerProcess.RunCli(["--cluster", "create", .. Nodes.Select(n => "127.0.0.1:" + n.Port.ToString(CultureInfo.InvariantCulture)), "--cluster-replicas", "0", "--cluster-yes"]);
            if (!output.Contains("All 16384 slots covered", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("redis-cli --cluster create failed:\n" + output);
            }

            WaitUntilOk();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    internal RedisServerProcess[] Nodes { get; }

    public OnlineStoreDefinition Store(string name = "default") => new()
    {
        Name = name,
        Kind = OnlineStoreKind.Redis,
        ConnectionString = string.Join(',', Nodes.Select(n => "127.0.0.1:" + n.Port.ToString(CultureInfo.InvariantCulture))),
        RedisType = RedisTopology.Cluster,
    };

    /// <summary>Waits until every running node says <c>cluster_state:ok</c>.</summary>
    public void WaitUntilOk()
    {
        var clock = Stopwatch.StartNew();
        while (!Nodes.Where(n => n.IsRunning).All(n => n.Cli("cluster", "info").Contains("cluster_state:ok", StringComparison.Ordinal)))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("the cluster did not reach cluster_state:ok:\n" + string.Join("\n", Nodes.Select(n => n.Cli("cluster", "info"))));
            }

            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        foreach (var node in Nodes)
        {
            node?.Dispose();
        }
    }
}
