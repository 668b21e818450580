using System.Net;
using LowLatency.Host.Endpoints;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// The inference URLs matched ahead of endpoint routing: the exact forms go straight to the
/// endpoint, every other form still reaches the routes and is answered as before; names are kept
/// only once routed, so clients cannot fill the table.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class InferenceRouteTests(ServerFixture server)
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Theory]
    [InlineData("/v2/models/ctr-ranker/infer", "ctr-ranker", "")]
    [InlineData("/v2/models/ctr-ranker/versions/12/infer", "ctr-ranker", "12")]
    [InlineData("/v2/models/a/versions/b/infer", "a", "b")]
    public void Exact_forms_split_into_name_and_version(string path, string name, string version)
    {
        Assert.True(InferenceRoute.TryMatch(path, out var n, out var v));
        Assert.Equal(name, n.ToString());
        Assert.Equal(version, v.ToString());
    }

    [Theory]
    [InlineData("/v2/models//infer")]
    [InlineData("/v2/models/infer")]
    [InlineData("/v2/models/ctr-ranker/infer/")]
    [InlineData("/V2/models/ctr-ranker/infer")]
    [InlineData("/v2/models/ctr-ranker/ready")]
    [InlineData("/v2/models/ctr-ranker/versions//infer")]
    [InlineData("/v2/models/ctr-ranker/versions/1/2/infer")]
    [InlineData("/v2/models/ctr-ranker/other/1/infer")]
    [InlineData("/v2/models/ctr-ranker/versions/infer")]
    public void Other_forms_are_left_to_the_routes(string path) =>
        Assert.False(InferenceRoute.TryMatch(path, out _, out _));

    [Fact]
    public void A_name_is_kept_once_and_only_while_there_is_room()
    {
        var names = new RouteNames();
        Assert.False(names.TryGet("ctr-ranker", out var first));
        names.Keep(first);
        Assert.True(names.TryGet("ctr-ranker".AsSpan(), out var again));
        Assert.Same(first, again);

        for (int i = 0; i < RouteNames.Capacity + 10; i++)
        {
            names.Keep("m" + i);
        }

        Assert.True(names.TryGet("m" + (RouteNames.Capacity - 2), out _));
        Assert.False(names.TryGet("m" + (RouteNames.Capacity + 5), out _));
    }

    [Theory]
    [InlineData("/v2/models/ctr-ranker/infer")]
    [InlineData("/v2/models/ctr-ranker/versions/1/infer")]
    [InlineData("/v2/models/ctr-ranker/infer/")]
    [InlineData("/V2/Models/ctr-ranker/Infer")]
    public async Task Every_form_the_routes_took_is_answered(string path)
    {
        var result = await GoldenTests.InferAsync(server.Client, "ctr-ranker", Ctr.Request, Wire.MsgPack, path);
        Wire.AssertClose(Ctr.Expected[0], result.Outputs[0]);
    }

    [Fact]
    public async Task Another_method_is_still_405_and_an_unknown_model_404_every_time()
    {
        using (var get = await server.Client.GetAsync("/v2/models/ctr-ranker/infer"))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        }

        for (int i = 0; i < 3; i++)
        {
            using var response = await server.Client.PostAsync("/v2/models/no-such-model/infer", ServerFixture.Body(Ctr.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("no-such-model", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        }
    }
}
