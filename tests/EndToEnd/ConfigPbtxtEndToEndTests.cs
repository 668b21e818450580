using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>A Triton repository as it is, its model configured by config.pbtxt alone, served through Kestrel.</summary>
public sealed class ConfigPbtxtEndToEndTests
{
    [Fact]
    public async Task A_model_with_only_config_pbtxt_serves_its_golden_cases()
    {
        using var repo = new TempRepository();
        string pbtxt = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "Config", "pbtxt", "ctr-ranker", ModelConfigFiles.TextFormat));
        repo.AddModel("ctr-ranker", pbtxt, configFile: ModelConfigFiles.TextFormat);
        Assert.Equal(ModelConfigFiles.TextFormat, Path.GetFileName(Assert.Single(Directory.GetFiles(Path.Combine(repo.Root, "ctr-ranker")))));

        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = address };
            await ServerFixture.WaitReadyAsync(client);
            foreach (var @case in new[] { "batch1", "batch8" })
            {
                foreach (var encoding in new[] { Wire.Json, Wire.MsgPack })
                {
                    var golden = GoldenCase.Load("ctr-ranker", @case);
                    var result = await GoldenTests.InferAsync(client, "ctr-ranker", golden.Request, encoding);
                    Assert.Equal("ctr-ranker", result.ModelName);
                    Wire.AssertClose(golden.Expected[0], result.Outputs[0]);
                }
            }

            // The configuration is served as JSON, as Triton serves a config.pbtxt's.
            using var config = JsonDocument.Parse(await client.GetStringAsync("/v2/models/ctr-ranker/config"));
            Assert.Equal(64, config.RootElement.GetProperty("max_batch_size").GetInt32());
            Assert.Equal("KIND_CPU", config.RootElement.GetProperty("instance_group")[0].GetProperty("kind").GetString());
            Assert.Equal(2, config.RootElement.GetProperty("input").GetArrayLength());
        }
    }
}
