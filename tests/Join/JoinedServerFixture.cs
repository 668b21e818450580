using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace LowLatency.Tests.Join;

/// <summary>
/// The server serving the candidate ranker with the example feature repository (its embedded
/// Garnet), the golden's rows pushed through Feast's <c>POST /push</c>; a derived fixture names
/// another feature repository and how its rows are pushed.
/// </summary>
public class JoinedServerFixture : IAsyncLifetime
{
    private readonly TempRepository _models = new();
    private readonly string _features;
    private readonly Func<JoinedGolden, DateTimeOffset, IEnumerable<JsonObject>> _pushBodies;
    private WebApplication? _app;

    public JoinedServerFixture()
        : this(TempFeatureRepository.Example, PushBodies)
    {
    }

    protected JoinedServerFixture(string features, Func<JoinedGolden, DateTimeOffset, IEnumerable<JsonObject>> pushBodies) =>
        (_features, _pushBodies) = (features, pushBodies);

    public JoinedGolden Golden { get; } = JoinedGolden.Load();

    public HttpClient Client { get; private set; } = null!;

    public WebApplication App => _app!;

    /// <summary>A copy of the repository's candidate ranker in <paramref name="repository"/>, its config changed by <paramref name="edit"/>.</summary>
    public static void AddRanker(TempRepository repository, Func<string, string>? edit = null)
    {
        string dir = Path.Combine(RepoPaths.Models, JoinedGolden.Model);
        string config = File.ReadAllText(Path.Combine(dir, "config.json"));
        repository.AddModel(JoinedGolden.Model, edit is null ? config : edit(config), File.ReadAllBytes(Path.Combine(dir, "1", "model.pt")));
    }

    /// <summary>The golden's rows as Feast's push bodies, event time <paramref name="at"/>.</summary>
    public static IEnumerable<JsonObject> PushBodies(JoinedGolden golden, DateTimeOffset at)
    {
        foreach (var (source, df) in golden.Pushes)
        {
            var columns = new JsonObject();
            int rows = 0;
            foreach (var (name, values) in df)
            {
                columns[name] = JsonNode.Parse(values.GetRawText());
                rows = values.GetArrayLength();
            }

            columns["event_timestamp"] = new JsonArray([.. Enumerable.Repeat(at.ToString("O", CultureInfo.InvariantCulture), rows).Select(t => (JsonNode)t)]);
            yield return new JsonObject { ["push_source_name"] = source, ["df"] = columns };
        }
    }

    public async Task InitializeAsync()
    {
        AddRanker(_models);
        (_app, var address) = await ServerFixture.StartAsync(_models.Root, ["--feature-repository", _features]);
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(Client);
        foreach (var body in _pushBodies(Golden, DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            using var pushed = await Client.PostAsJsonAsync("/push", body);
            Assert.True(pushed.IsSuccessStatusCode, await pushed.Content.ReadAsStringAsync());
        }
    }

    public virtual async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _models.Dispose();
    }
}
