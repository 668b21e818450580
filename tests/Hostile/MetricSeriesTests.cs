using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Every label value on /metrics comes from the server's own set (the models and versions it
/// serves, the codes it answers with, its routes): model and version names a client makes up, on
/// any route, create no series. The versioned inference route once counted the URL's model name:
/// 3,000 names added 30,000 series.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed partial class MetricSeriesTests
{
    [Fact]
    public async Task Names_a_client_makes_up_on_any_route_create_no_series()
    {
        await using var server = await HostileServer.StartAsync(["--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker"]);
        // A first pass over every route, so that the series each route and status code give exist
        // before the measurement starts.
        await BurstAsync(server, Requests("made-up-0", "x0"));
        string before = await ScrapeAsync(server);
        long rss = server.ResidentBytes();

        await BurstAsync(server, Enumerable.Range(1, 100).SelectMany(i => Requests($"made-up-{i}", $"x{i}")));
        await BurstAsync(server, Enumerable.Range(1000, 1000).Select(i => (HttpMethod.Post, $"/v2/models/made-up-{i}/versions/x/infer")));
        string after = await ScrapeAsync(server);

        Assert.DoesNotMatch(MadeUp(), after);
        // New label values would show as new lines; existing series grow only in their digits, and the
        // runtime's own series may add a few lines (a first collection of another generation, say).
        Assert.True(after.Length - before.Length < 16_384, $"/metrics grew from {before.Length} to {after.Length} bytes:\n{string.Join('\n', after.Split('\n').Except(before.Split('\n')).Take(20))}");
        Assert.True(await server.IsReadyAsync());
        // 2,700 small requests, nothing of which is kept: 512 MiB above the reading before is room
        // for the GC's slack on a shared machine.
        long grown = server.ResidentBytes();
        Assert.True(grown - rss < (512L << 20), $"resident memory grew from {rss >> 20} MiB to {grown >> 20} MiB");
    }

    /// <summary>Every route that takes a model or version name, with these names.</summary>
    private static IEnumerable<(HttpMethod Method, string Path)> Requests(string model, string version)
    {
        yield return (HttpMethod.Post, $"/v2/models/{model}/infer");
        yield return (HttpMethod.Post, $"/v2/models/{model}/versions/{version}/infer");
        yield return (HttpMethod.Post, $"/v2/models/ctr-ranker/versions/{version}/infer");
        yield return (HttpMethod.Get, $"/v2/models/{model}");
        yield return (HttpMethod.Get, $"/v2/models/{model}/versions/{version}");
        yield return (HttpMethod.Get, $"/v2/models/ctr-ranker/versions/{version}");
        yield return (HttpMethod.Get, $"/v2/models/{model}/ready");
        yield return (HttpMethod.Get, $"/v2/models/{model}/versions/{version}/ready");
        yield return (HttpMethod.Get, $"/v2/models/{model}/config");
        yield return (HttpMethod.Get, $"/v2/models/{model}/versions/{version}/config");
        yield return (HttpMethod.Get, $"/v2/models/{model}/stats");
        yield return (HttpMethod.Get, $"/v2/models/{model}/versions/{version}/stats");
        yield return (HttpMethod.Get, $"/v2/models/ctr-ranker/versions/{version}/stats");
        yield return (HttpMethod.Post, $"/v2/repository/models/{model}/load");
        yield return (HttpMethod.Post, $"/v2/repository/models/{model}/unload");
        yield return (HttpMethod.Get, $"/v2/repository/models/{model}/traffic");
        yield return (HttpMethod.Put, $"/v2/repository/models/{model}/traffic");
    }

    private static async Task BurstAsync(HostileServer server, IEnumerable<(HttpMethod Method, string Path)> requests)
    {
        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(requests.Select(async r =>
        {
            await gate.WaitAsync();
            try
            {
                using var request = new HttpRequestMessage(r.Method, r.Path);
                if (r.Method != HttpMethod.Get)
                {
                    request.Content = new ByteArrayContent("{}"u8.ToArray());
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                }

                using var response = await server.Client.SendAsync(request);
                Assert.InRange((int)response.StatusCode, 400, 499);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private static async Task<string> ScrapeAsync(HostileServer server)
    {
        using var response = await server.Client.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex(@"made-up|""x\d+""|[{,]version=""(?!1"")[^""]+""")]
    private static partial Regex MadeUp();
}
