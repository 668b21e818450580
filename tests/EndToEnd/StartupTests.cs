using System.Net;
using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Repository;
using LowLatency.Host;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LowLatency.Tests.EndToEnd;

public sealed class StartupTests
{
    [Fact]
    public async Task Before_models_are_loaded_readiness_and_inference_answer_503()
    {
        // Without the loader the engine never becomes ready: exactly the state of a server still loading.
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, configure: b =>
        {
            var loader = b.Services.Single(s => s.ServiceType == typeof(IHostedService) && s.ImplementationType?.Name == "EngineLoader");
            b.Services.Remove(loader);
        });
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = address };
            using (var live = await client.GetAsync("/v2/health/live"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            using (var ready = await client.GetAsync("/v2/health/ready"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            }

            var golden = GoldenCase.Load("ctr-ranker", "batch1");
            using var infer = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, infer.StatusCode);
            Assert.Contains("not ready", Wire.ErrorOf(await infer.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
            await app.StopAsync();
        }
    }

    // DATAS (on by default with Server GC since .NET 9) sized the heaps for memory and collected five
    // times as often under load (docs/performance.md#garbage-collector): the server ships without it.
    [Fact]
    public void The_server_ships_with_server_GC_and_one_heap_per_core_not_dynamic_adaptation()
    {
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "LowLatency.Host.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.Equal(0, properties.GetProperty("System.GC.DynamicAdaptationMode").GetInt32());
    }

    [Fact]
    public void A_bad_config_stops_the_server_before_it_starts_naming_file_and_field()
    {
        using var repo = new TempRepository();
        repo.AddModel("m", """{"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 4, "input": [{"name": "x", "data_type": "TYPE_FLOAT", "dims": [2]}], "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [2]}]}""");
        var e = Assert.Throws<ModelConfigException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", repo.Root]));
        Assert.Contains(Path.Combine(repo.Root, "m", "config.json"), e.Message, StringComparison.Ordinal);
        Assert.Contains("input[0].data_type", e.Message, StringComparison.Ordinal);
        Assert.Contains("TYPE_FLOAT", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--LowLatency:WaitStrategy=Bogus", "LowLatency:WaitStrategy", "'Bogus'", "SpinThenPark, Spin, Park")]
    [InlineData("--LowLatency:MaxRequestBodyBytes=lots", "LowLatency:MaxRequestBodyBytes", "'lots'", "not a valid value")]
    [InlineData("--LowLatency:Tracing:SampleRatio=half", "LowLatency:Tracing:SampleRatio", "'half'", "not a valid value")]
    public void A_setting_that_does_not_convert_is_refused_naming_the_setting_and_the_value(string argument, string key, string value, string why)
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models, argument]));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--LowLatency:MaxRequestBodyBytes=-1", "LowLatency:MaxRequestBodyBytes must be 1 or more, not -1")]
    [InlineData("--LowLatency:MaxBufferedRequestBodyBytes=1048576", "LowLatency:MaxBufferedRequestBodyBytes must be at least LowLatency:MaxRequestBodyBytes (67108864) and at most 549755813888, not 1048576")]
    [InlineData("--LowLatency:TrimAfterBurstBytes=-1", "LowLatency:TrimAfterBurstBytes must be 0 (off) or more, not -1")]
    [InlineData("--LowLatency:DrainTimeoutSeconds=-1", "LowLatency:DrainTimeoutSeconds must be 0 or more, not -1")]
    [InlineData("--LowLatency:DrainDelaySeconds=-0.5", "LowLatency:DrainDelaySeconds must be 0 or more, not -0.5")]
    [InlineData("--LowLatency:MaxTensorElements=0", "LowLatency:MaxTensorElements must be 1 or more, not 0")]
    [InlineData("--LowLatency:MaxQueueSize=0", "LowLatency:MaxQueueSize must be 1 or more")]
    [InlineData("--LowLatency:IntraOpThreads=0", "LowLatency:IntraOpThreads must be 1 or more")]
    [InlineData("--LowLatency:SpinMicroseconds=-5", "LowLatency:SpinMicroseconds must be 0 or more, not -5")]
    [InlineData("--LowLatency:AnswerPollMicroseconds=-1", "LowLatency:AnswerPollMicroseconds must be within 0 … 1000000 (0: off), not -1")]
    [InlineData("--LowLatency:ThreadNice=50", "LowLatency:ThreadNice must be within -20 … 19, not 50")]
    [InlineData("--LowLatency:WorkerRealtimePriority=100", "LowLatency:WorkerRealtimePriority must be within 0 … 99 (0: off; 1 … 99: SCHED_FIFO priority), not 100")]
    [InlineData("--LowLatency:RepositoryPollSeconds=0", "LowLatency:RepositoryPollSeconds must be more than 0, not 0")]
    [InlineData("--LowLatency:MaxBatchRowsPerRequest=-1", "LowLatency:MaxBatchRowsPerRequest must be 0")]
    [InlineData("--LowLatency:WorkerCores:0=1023", "LowLatency:WorkerCores lists core 1023")]
    [InlineData("--Kestrel:Limits:Http2:InitialConnectionWindowSize=10", "Kestrel:Limits:Http2:InitialConnectionWindowSize = '10': A value between 65535 and 2147483647 is required")]
    [InlineData("--Kestrel:Limits:MaxConcurrentConnections=many", "Kestrel:Limits:MaxConcurrentConnections = 'many': many is not a valid value for Int64")]
    [InlineData("--Kestrel:Limits:Http2:MaxStreamPerConnection=5", "Kestrel:Limits:Http2:MaxStreamPerConnection = '5': ")]
    [InlineData("--Kestrel:Limits:MaxRequestBufferSize=16384", "Kestrel:Limits:MaxRequestBufferSize (16384) must be at least Kestrel:Limits:MaxRequestLineSize (8192) and Kestrel:Limits:MaxRequestHeadersTotalSize (32768)")]
    [InlineData("--Kestrel:Limits:MinRequestBodyDataRate=fast", "Kestrel:Limits:MinRequestBodyDataRate = 'fast': empty for no minimum, or set BytesPerSecond and GracePeriod")]
    public void A_setting_out_of_its_range_is_refused_naming_it(string argument, string message)
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models, argument]));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Realtime_workers_that_would_never_park_are_refused()
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models, "--LowLatency:WorkerRealtimePriority=1", "--LowLatency:WaitStrategy=Spin"]));
        Assert.Contains("LowLatency:WorkerRealtimePriority cannot be used with LowLatency:WaitStrategy=Spin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_out_of_range_is_named_at_once()
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models, "--LowLatency:MaxTensorElements=0", "--LowLatency:DrainTimeoutSeconds=-1"]));
        Assert.Contains("LowLatency:MaxTensorElements", e.Message, StringComparison.Ordinal);
        Assert.Contains("LowLatency:DrainTimeoutSeconds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_model_file_is_reported_with_libtorchs_reason()
    {
        TorchRuntime.Initialize(1);
        using var repo = new TempRepository();
        repo.AddModel("broken", """{"name": "broken", "platform": "pytorch_libtorch", "max_batch_size": 4, "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [2]}], "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [2]}]}""", "not a zip file"u8.ToArray());
        string file = Path.Combine(repo.Root, "broken", "1", "model.pt");
        var config = ModelRepository.Scan(repo.Root)[0].Config;
        var e = Assert.Throws<ModelConfigException>(() => TorchScriptModel.Load(file, config));
        Assert.Equal($"{file}: not a TorchScript file libtorch can load: PytorchStreamReader failed reading zip archive: not a ZIP archive", e.Message);
    }

    [Fact]
    public async Task A_corrupt_model_file_fails_loading_and_stops_the_server()
    {
        using var repo = new TempRepository();
        repo.AddModel("broken", """{"name": "broken", "platform": "pytorch_libtorch", "max_batch_size": 4, "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [2]}], "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [2]}]}""", "not a zip file"u8.ToArray());
        var (app, _) = await ServerFixture.StartAsync(repo.Root);
        await using (app)
        {
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            var stopped = new TaskCompletionSource();
            lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
            await stopped.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(1, Environment.ExitCode);
            Environment.ExitCode = 0;
        }
    }
}
