using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>The server's own request limits, set lower than the models' own: 400 naming the setting, in either encoding.</summary>
public sealed class RequestLimitTests
{
    private static readonly GoldenCase Ctr8 = GoldenCase.Load("ctr-ranker", "batch8");

    [Fact]
    public async Task Rows_and_elements_over_the_servers_limits_get_400_naming_the_setting()
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:MaxBatchRowsPerRequest=4", "--LowLatency:MaxTensorElements=100"]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        foreach (var (body, type) in new[] { (Ctr8.Request.ToJson(), Wire.Json), (Ctr8.Request.ToMsgPack(), Wire.MsgPack) })
        {
            using var rows = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(body, type));
            Assert.Equal(HttpStatusCode.BadRequest, rows.StatusCode);
            Assert.Contains("limit of 4 rows per request (LowLatency:MaxBatchRowsPerRequest)", Wire.ErrorOf(await rows.Content.ReadAsByteArrayAsync(), type), StringComparison.Ordinal);
        }

        // 4 rows of 26 ids: 104 elements, over 100.
        var four = Ctr8.Request with
        {
            Inputs = [Ctr8.Request.Inputs[0] with { Shape = [4, 26], Values = Ctr8.Request.Inputs[0].Values[..104] }, Ctr8.Request.Inputs[1] with { Shape = [4, 13], Values = Ctr8.Request.Inputs[1].Values[..52] }],
        };
        using var elements = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(four.ToMsgPack(), Wire.MsgPack));
        Assert.Equal(HttpStatusCode.BadRequest, elements.StatusCode);
        Assert.Contains("104 elements, over the server's limit of 100 (LowLatency:MaxTensorElements)", Wire.ErrorOf(await elements.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);

        // Within both limits: answered.
        var three = Ctr8.Request with
        {
            Inputs = [Ctr8.Request.Inputs[0] with { Shape = [3, 26], Values = Ctr8.Request.Inputs[0].Values[..78] }, Ctr8.Request.Inputs[1] with { Shape = [3, 13], Values = Ctr8.Request.Inputs[1].Values[..39] }],
        };
        using var ok = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(three.ToMsgPack(), Wire.MsgPack));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
