using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// A device worker on a core kept from the rest of the process: the server started confined to one
/// core (as by <c>taskset -c</c> or isolcpus), its worker pinned to another with <c>WorkerCores</c>.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class IsolatedWorkerCoreTests
{
    [Fact]
    public async Task A_server_confined_to_one_core_runs_its_worker_alone_on_another_and_answers()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var (rest, worker) = AllowedCores.FirstTwo();
        using var server = ServerProcess.Start(
            [$"--LowLatency:WorkerCores:0={worker}", "--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker", "--Logging:LogLevel:Default=Information", "--Logging:LogLevel:Microsoft=Warning"],
            new Dictionary<string, string> { ["DOTNET_PROCESSOR_COUNT"] = "2" },
            startOnCore: rest);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        await server.WaitReadyAsync(client);

        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        for (int i = 0; i < 20; i++)
        {
            using var response = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Wire.AssertClose(golden.Expected[0], Wire.ParseMsgPack(bytes).Outputs[0]);
        }

        // The worker (and any native thread it started, which inherits its name) on its own core;
        // every other thread, the thread pool's included, on the core the process was started on:
        // the runtime gives each thread it starts the process's mask, whichever thread starts it.
        var byThread = new List<(string Name, string Cores)>();
        foreach (var task in Directory.GetDirectories($"/proc/{server.Process.Id}/task"))
        {
            try
            {
                string name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                string allowed = File.ReadAllLines(Path.Combine(task, "status")).Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))["Cpus_allowed_list:".Length..].Trim();
                byThread.Add((name, allowed));
            }
            catch (IOException)
            {
                // A thread that ended between the listing and the read.
            }
        }

        string all = string.Join(", ", byThread.Select(t => $"{t.Name}:{t.Cores}"));
        Assert.Contains(byThread, t => t.Name.StartsWith("ll-w0.ctr-ranke", StringComparison.Ordinal));
        Assert.Contains(byThread, t => t.Name == ".NET TP Worker");
        Assert.All(byThread, t => Assert.True(t.Cores == (t.Name.StartsWith("ll-w", StringComparison.Ordinal) ? $"{worker}" : $"{rest}"), all));
        Assert.Contains($"device workers pinned to core {worker}; {worker} outside this process's affinity mask (taskset, isolcpus), so its other threads start on the other cores; the runtime counts 2 cores", server.Log, StringComparison.Ordinal);
    }
}
