using System.Text.Json.Nodes;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Lifecycle;

/// <summary>Loading, reloading and unloading in a real engine: what serves when, and when a version lets go of its memory.</summary>
public sealed class ModelLifecycleTests
{
    private static InferenceEngine Start(string root, ModelControlMode mode = ModelControlMode.All, string[]? startup = null, double pollSeconds = 5)
    {
        var engine = new InferenceEngine(new EngineOptions { ModelRepository = root, ModelControlMode = mode, StartupModels = startup ?? [], RepositoryPollSeconds = pollSeconds });
        engine.Scan();
        engine.Load();
        return engine;
    }

    [Fact]
    public async Task A_reload_publishes_new_versions_and_the_old_one_is_freed_only_after_its_last_request()
    {
        using var repo = new CtrRepository(versions: 1);
        using var engine = Start(repo.Root);
        Assert.True(engine.TryGetModel(repo.Name, out var before));
        var old = before.Versions[1];

        // A request routed to the old version and still holding its outputs (a response being written).
        Assert.Equal(InferenceStatus.Ok, engine.Route(repo.Name, null, null, out var held, out _));
        var request = held.Version.RentRequest();
        CtrRepository.Fill(request);
        Assert.True(await held.Version.InferAsync(request));
        long handlesBefore = old.Handles.Live;
        Assert.True(handlesBefore > 1, $"module + arenas + the held outputs, got {handlesBefore}");

        Assert.True((await engine.LoadModelAsync(repo.Name, null)).Succeeded);
        Assert.True(engine.TryGetModel(repo.Name, out var after));
        Assert.NotSame(old, after.Versions[1]);

        // New requests reach the new version; the old one still holds its native handles for the held request.
        var fresh = await CtrRepository.SendAsync(engine, repo.Name);
        Assert.Equal(InferenceStatus.Ok, fresh.Status);
        Assert.Equal(CtrRepository.Expected, fresh.Value, 5);
        // Retired before the reload returned: from then on the old version is released as soon as its
        // last reference goes, so it is still counted here only while the held request holds one. A
        // count that reached 0 never rises again, so a reference taken now shows it did not.
        Assert.True(old.IsRetired);
        Assert.True(old.TryAcquire(), "the old version let go of the held request's reference");
        old.Release();
        Assert.False(old.Released.IsCompleted);
        Assert.Equal(handlesBefore, old.Handles.Live);
        Assert.Equal(CtrRepository.Expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(request.OutputData(0))[0], 5);

        // The held request finishes: the old version stops and releases everything, no GC involved.
        request.Dispose();
        held.Release();
        await old.Released.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, old.Handles.Live);
        Assert.False(old.TryAcquire());
    }

    [Fact]
    public async Task A_failed_load_leaves_the_serving_version_untouched_and_says_why_in_the_index()
    {
        using var repo = new CtrRepository(versions: 1);
        using var engine = Start(repo.Root);
        Assert.True(engine.TryGetModel(repo.Name, out var before));

        // A corrupt file.
        File.WriteAllBytes(Path.Combine(repo.Root, repo.Name, "1", "model.pt"), [1, 2, 3, 4]);
        var corrupt = await engine.LoadModelAsync(repo.Name, null);
        Assert.Equal(400, corrupt.Status);
        Assert.Contains("not a TorchScript file", corrupt.Error);
        Assert.True(engine.TryGetModel(repo.Name, out var still));
        Assert.Same(before.Versions[1], still.Versions[1]);
        Assert.Equal(InferenceStatus.Ok, (await CtrRepository.SendAsync(engine, repo.Name)).Status);
        var entry = Assert.Single(engine.Index(readyOnly: false), e => e.Name == repo.Name);
        Assert.Equal("READY", entry.State);
        Assert.Contains("the last load failed", entry.Reason);
        Assert.Contains("not a TorchScript file", entry.Reason);

        // A bad config passed with the load request.
        string negative = File.ReadAllText(Path.Combine(repo.Root, repo.Name, "config.json")).Replace("\"max_batch_size\":64", "\"max_batch_size\":-3", StringComparison.Ordinal);
        Assert.Contains("-3", negative);
        var badConfig = await engine.LoadModelAsync(repo.Name, negative);
        Assert.Equal(400, badConfig.Status);
        Assert.Contains("max_batch_size", badConfig.Error);

        // Shapes the model rejects at warm-up (the config says 7 dense features, the model takes 13).
        File.Copy(Path.Combine(RepoPaths.Models, "ctr-ranker", "1", "model.pt"), Path.Combine(repo.Root, repo.Name, "1", "model.pt"), overwrite: true);
        string wrongShapes = File.ReadAllText(Path.Combine(repo.Root, repo.Name, "config.json")).Replace("\"dims\":[13]", "\"dims\":[7]", StringComparison.Ordinal);
        Assert.Contains("[7]", wrongShapes);
        var warmUp = await engine.LoadModelAsync(repo.Name, wrongShapes);
        Assert.Equal(400, warmUp.Status);
        Assert.Contains("warm-up", warmUp.Error);
        Assert.True(engine.TryGetModel(repo.Name, out still));
        Assert.Same(before.Versions[1], still.Versions[1]);

        // And a good load afterwards clears the failure.
        Assert.True((await engine.LoadModelAsync(repo.Name, null)).Succeeded);
        entry = Assert.Single(engine.Index(readyOnly: false), e => e.Name == repo.Name);
        Assert.Equal(("READY", string.Empty), (entry.State, entry.Reason));
    }

    [Fact]
    public async Task Unload_takes_the_model_out_of_routing_at_once_and_a_load_brings_it_back()
    {
        using var repo = new CtrRepository(versions: 1);
        using var engine = Start(repo.Root);
        Assert.True(engine.TryGetModel(repo.Name, out var served));
        var version = served.Versions[1];
        Assert.True((await engine.UnloadModelAsync(repo.Name)).Succeeded);
        var gone = await CtrRepository.SendAsync(engine, repo.Name);
        Assert.Equal(InferenceStatus.NotFound, gone.Status);
        await version.Released.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, version.Handles.Live);
        var entry = Assert.Single(engine.Index(readyOnly: false), e => e.Name == repo.Name);
        Assert.Equal(("1", "UNAVAILABLE", "unloaded"), (entry.Version, entry.State, entry.Reason));
        Assert.Empty(engine.Index(readyOnly: true));
        Assert.Equal(404, (await engine.UnloadModelAsync(repo.Name)).Status);

        Assert.True((await engine.LoadModelAsync(repo.Name, null)).Succeeded);
        Assert.Equal(InferenceStatus.Ok, (await CtrRepository.SendAsync(engine, repo.Name)).Status);
    }

    [Fact]
    public async Task Version_policies_choose_the_served_versions()
    {
        using var repo = new CtrRepository(versions: 3, edit: c => c["version_policy"] = JsonNode.Parse("""{ "latest": { "num_versions": 2 } }"""));
        using var engine = Start(repo.Root);
        Assert.True(engine.TryGetModel(repo.Name, out var served));
        Assert.Equal([2L, 3L], served.Versions.Keys.Order());
        Assert.Equal(3, (await CtrRepository.SendAsync(engine, repo.Name)).Version);
        Assert.Equal(InferenceStatus.NotFound, (await CtrRepository.SendAsync(engine, repo.Name, version: "1")).Status);

        Assert.True((await engine.LoadModelAsync(repo.Name, Config(repo, """{ "specific": { "versions": [1, 3] } }"""))).Succeeded);
        Assert.True(engine.TryGetModel(repo.Name, out served));
        Assert.Equal([1L, 3L], served.Versions.Keys.Order());
        Assert.Equal(1, (await CtrRepository.SendAsync(engine, repo.Name, version: "1")).Version);
        var v2 = Assert.Single(engine.Index(false), e => e.Version == "2");
        Assert.Equal("UNAVAILABLE", v2.State);

        Assert.True((await engine.LoadModelAsync(repo.Name, Config(repo, """{ "all": {} }"""))).Succeeded);
        Assert.True(engine.TryGetModel(repo.Name, out served));
        Assert.Equal([1L, 2L, 3L], served.Versions.Keys.Order());
    }

    [Fact]
    public async Task Traffic_set_at_run_time_must_name_served_versions_and_outlives_a_reload()
    {
        using var repo = new CtrRepository(versions: 2);
        using var engine = Start(repo.Root);
        Assert.Equal(400, engine.SetTraffic(repo.Name, new Dictionary<long, int> { [1] = 50, [7] = 50 }).Status);
        Assert.Equal(404, engine.SetTraffic("nope", new Dictionary<long, int> { [1] = 1 }).Status);
        Assert.True(engine.SetTraffic(repo.Name, new Dictionary<long, int> { [1] = 100, [2] = 0 }).Succeeded);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(1, (await CtrRepository.SendAsync(engine, repo.Name)).Version);
        }

        Assert.True((await engine.LoadModelAsync(repo.Name, null)).Succeeded);
        Assert.True(engine.TryGetModel(repo.Name, out var served));
        Assert.True(served.TrafficFromApi);
        Assert.Equal(1, (await CtrRepository.SendAsync(engine, repo.Name)).Version);

        // {} goes back to the default: everything to the latest version.
        Assert.True(engine.SetTraffic(repo.Name, new Dictionary<long, int>()).Succeeded);
        Assert.Equal(2, (await CtrRepository.SendAsync(engine, repo.Name)).Version);
    }

    [Fact]
    public async Task Explicit_mode_loads_only_the_startup_models()
    {
        using var repo = new CtrRepository(versions: 1);
        repo.AddCopy("ctr-other");
        using var engine = Start(repo.Root, ModelControlMode.Explicit, ["ctr-other"]);
        Assert.True(engine.IsReady);
        Assert.False(engine.TryGetModel(repo.Name, out _));
        Assert.Equal(InferenceStatus.Ok, (await CtrRepository.SendAsync(engine, "ctr-other")).Status);
        Assert.Contains(engine.Index(false), e => e.Name == repo.Name && e.State is null);
        Assert.True((await engine.LoadModelAsync(repo.Name, null)).Succeeded);
        Assert.Equal(InferenceStatus.Ok, (await CtrRepository.SendAsync(engine, repo.Name)).Status);
    }

    [Fact]
    public async Task Poll_mode_follows_the_directory_and_refuses_the_api()
    {
        using var repo = new CtrRepository(versions: 1);
        using var engine = Start(repo.Root, ModelControlMode.Poll, pollSeconds: 0.1);
        Assert.Equal(409, (await engine.LoadModelAsync(repo.Name, null)).Status);
        Assert.True(engine.TryGetModel(repo.Name, out var first));

        // A new version directory appears (version_policy all): it is loaded and serves.
        string v2 = Path.Combine(repo.Root, repo.Name, "2");
        Directory.CreateDirectory(v2);
        File.Copy(Path.Combine(RepoPaths.Models, "ctr-ranker", "1", "model.pt"), Path.Combine(v2, "model.pt"));
        await Until(() => engine.TryGetModel(repo.Name, out var m) && m.Versions.ContainsKey(2));
        Assert.True(engine.TryGetModel(repo.Name, out var second));
        Assert.Same(first.Versions[1], second.Versions[1]); // unchanged: not reloaded
        Assert.Equal(2, (await CtrRepository.SendAsync(engine, repo.Name)).Version);

        // A broken config is reported and the model keeps serving.
        File.WriteAllText(Path.Combine(repo.Root, repo.Name, "config.json"), "{ not json");
        await Until(() => engine.Index(false).Any(e => e.Name == repo.Name && (e.Reason ?? string.Empty).Contains("not valid JSON", StringComparison.Ordinal)));
        Assert.Equal(InferenceStatus.Ok, (await CtrRepository.SendAsync(engine, repo.Name)).Status);

        // The model directory goes away: it is unloaded.
        Directory.Delete(Path.Combine(repo.Root, repo.Name), recursive: true);
        await Until(() => !engine.TryGetModel(repo.Name, out _));
        Assert.Equal(InferenceStatus.NotFound, (await CtrRepository.SendAsync(engine, repo.Name)).Status);
    }

    [Fact]
    public async Task Poll_mode_reloads_a_version_file_replaced_by_one_of_the_same_size_and_timestamp()
    {
        using var repo = new CtrRepository(versions: 1);
        using var engine = Start(repo.Root, ModelControlMode.Poll, pollSeconds: 0.1);
        Assert.True(engine.TryGetModel(repo.Name, out var first));

        // Shipped as artefact stores and `cp -p` do: the same size (here the same model), the old
        // timestamp, renamed over the served file. Size and mtime alone cannot see it.
        string file = Path.Combine(repo.Root, repo.Name, "1", "model.pt");
        string staged = file + ".staged";
        File.Copy(file, staged);
        File.SetLastWriteTimeUtc(staged, File.GetLastWriteTimeUtc(file));
        File.Move(staged, file, overwrite: true);

        await Until(() => engine.TryGetModel(repo.Name, out var m) && !ReferenceEquals(m.Versions[1], first.Versions[1]));
        Assert.Equal(InferenceStatus.Ok, (await CtrRepository.SendAsync(engine, repo.Name)).Status);
    }

    [Fact]
    public async Task Names_that_are_not_plain_directory_names_never_reach_the_file_system()
    {
        using var repo = new CtrRepository(versions: 1);
        using var engine = Start(repo.Root);
        foreach (var name in new[] { "..", "../ctr-ranker", "ctr-ranker/../..", "/etc", ".hidden", "a\\b", "a\0b", "%2e%2e", new string('x', 200) })
        {
            var outcome = await engine.LoadModelAsync(name, null);
            Assert.Equal(400, outcome.Status);
            Assert.Contains("not a valid model name", outcome.Error);
        }

        Assert.Equal(404, (await engine.LoadModelAsync("no-such-model", null)).Status);
    }

    [Fact]
    public async Task Loading_a_model_the_repository_does_not_hold_is_a_404_that_logs_nothing()
    {
        using var repo = new CtrRepository(versions: 1);
        var events = new System.Collections.Concurrent.ConcurrentQueue<EngineEvent>();
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root, ModelControlMode = ModelControlMode.Explicit, StartupModels = [repo.Name] });
        engine.Scan();
        engine.Load(events.Enqueue);

        // Names a client makes up: each answered, none a warning in the log (any caller of the load
        // route could flood it) nor a status the server keeps.
        for (int i = 0; i < 3; i++)
        {
            var outcome = await engine.LoadModelAsync($"made-up-{i}", null);
            Assert.Equal(404, outcome.Status);
            Assert.Equal($"no model 'made-up-{i}' in the repository", outcome.Error);
        }

        Assert.DoesNotContain(events, e => e.Kind == EngineEventKind.LoadFailed);
        Assert.DoesNotContain(engine.Index(readyOnly: false), e => e.Name.StartsWith("made-up-", StringComparison.Ordinal));
    }

    private static string Config(CtrRepository repo, string versionPolicy)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(repo.Root, repo.Name, "config.json")))!.AsObject();
        config["version_policy"] = JsonNode.Parse(versionPolicy);
        return config.ToJsonString();
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 60 s");
            await Task.Delay(50);
        }
    }
}
