using System.Collections.Concurrent;
using System.Net;
using System.Text;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace LowLatency.Tests.Lifecycle;

/// <summary>What the engine tells the log: failures as warnings an operator can alert on, with the model and version as fields.</summary>
public sealed class EngineEventLogTests
{
    [Fact]
    public async Task A_failed_reload_is_a_warning_naming_the_model_and_the_version_and_loads_are_information()
    {
        using var repo = new CtrRepository(versions: 1);
        var events = new ConcurrentQueue<EngineEvent>();
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = repo.Root });
        engine.Scan();
        engine.Load(events.Enqueue);

        var loaded = Assert.Single(events, e => e.Kind == EngineEventKind.VersionLoaded);
        Assert.Equal((repo.Name, "1", false), (loaded.Model, loaded.Version, loaded.IsWarning));
        Assert.Contains(events, e => e.Kind == EngineEventKind.Runtime && !e.IsWarning);

        File.WriteAllBytes(Path.Combine(repo.Root, repo.Name, "1", "model.pt"), Encoding.ASCII.GetBytes("not a TorchScript archive"));
        Assert.False((await engine.LoadModelAsync(repo.Name, null)).Succeeded);

        var failed = Assert.Single(events, e => e.Kind == EngineEventKind.LoadFailed);
        Assert.Equal((repo.Name, "1", true), (failed.Model, failed.Version, failed.IsWarning));
        Assert.Contains("the previous load still serves", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_the_server_a_failed_reload_reaches_the_log_as_a_warning_with_model_and_version_fields()
    {
        using var repo = new CtrRepository(versions: 1);
        var capture = new CapturingProvider();
        var (app, address) = await ServerFixture.StartAsync(repo.Root, configure: b => b.Logging.AddProvider(capture));
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
        await ServerFixture.WaitReadyAsync(client);

        File.WriteAllBytes(Path.Combine(repo.Root, repo.Name, "1", "model.pt"), Encoding.ASCII.GetBytes("not a TorchScript archive"));
        using var load = await client.PostAsync($"/v2/repository/models/{repo.Name}/load", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, load.StatusCode);

        // The server logs at Warning and above here: the loads themselves (information) are not seen.
        var entry = Assert.Single(capture.Entries, e => e.EventName == "LoadFailed");
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(repo.Name, entry.Fields["Model"]);
        Assert.Equal("1", entry.Fields["Version"]);
        Assert.StartsWith($"loading model '{repo.Name}' failed", entry.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(capture.Entries, e => e.EventName == "VersionLoaded");
    }

    [Fact]
    public async Task The_hosts_own_lines_carry_fixed_event_ids_from_start_to_stop()
    {
        using var repo = new CtrRepository(versions: 1);
        var capture = new CapturingProvider();
        var (app, address) = await ServerFixture.StartAsync(repo.Root, ["--Logging:LogLevel:LowLatency.Host=Information"], b => b.Logging.AddProvider(capture));
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
            await ServerFixture.WaitReadyAsync(client);
            await app.StopAsync();
        }

        Assert.Equal((1000, "Ready"), Assert.Single(capture.Entries, e => e.Text.StartsWith("ready:", StringComparison.Ordinal)).Id);
        Assert.Equal((1002, "Stopping"), Assert.Single(capture.Entries, e => e.Text.StartsWith("shutting down:", StringComparison.Ordinal)).Id);
        Assert.Equal((1003, "Stopped"), Assert.Single(capture.Entries, e => e.Text.StartsWith("stopped:", StringComparison.Ordinal)).Id);
        Assert.Contains(capture.Entries, e => e.Id == (1100 + (int)EngineEventKind.VersionLoaded, "VersionLoaded"));
    }

    [Fact]
    public void Every_LoggerMessage_of_the_host_has_an_event_id_of_its_own_below_the_engines()
    {
        var ids = typeof(Host.LowLatencyServer).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttributes(typeof(LoggerMessageAttribute), false).Cast<LoggerMessageAttribute>().SingleOrDefault()))
            .Where(m => m.Attribute is not null)
            .ToList();
        Assert.NotEmpty(ids);
        Assert.All(ids, m => Assert.InRange(m.Attribute!.EventId, 1000, 1099));
        Assert.All(ids, m => Assert.False(string.IsNullOrEmpty(m.Attribute!.EventName), m.Method.Name));
        Assert.Equal(ids.Count, ids.Select(m => m.Attribute!.EventId).Distinct().Count());
    }

    [Fact]
    public void The_operations_guide_names_every_event_an_operator_can_filter_on()
    {
        // The README links its Logs section there.
        string guide = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "operations.md"));
        Assert.All(Enum.GetNames<EngineEventKind>(), name => Assert.Contains($"`{name}`", guide, StringComparison.Ordinal));
    }

    private sealed record Entry(LogLevel Level, (int Id, string? Name) Id, string Text, IReadOnlyDictionary<string, object?> Fields)
    {
        public string? EventName => Id.Name;
    }

    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var fields = new Dictionary<string, object?>();
                if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        fields[key] = value;
                    }
                }

                entries.Enqueue(new Entry(logLevel, (eventId.Id, eventId.Name), formatter(state, exception), fields));
            }
        }
    }
}
