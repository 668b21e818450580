using System.Text.RegularExpressions;
using Grpc.Core;
using Inference;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// <see cref="MetricSeriesTests"/> over gRPC: model and version names a client makes up, sent to
/// ModelInfer, on a ModelStreamInfer stream and to the RPCs that take a model's name, add no series
/// to /metrics (an answer is counted under a served model's name or <c>unknown</c>).
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed partial class GrpcMetricSeriesTests
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task Names_a_client_makes_up_over_grpc_create_no_series()
    {
        await using var server = await HostileServer.StartAsync(["--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker"]);
        using var channel = GrpcWire.Channel(server.GrpcAddress);
        var client = GrpcWire.Client(channel);
        // A first pass, so that the series each status code gives exist before the measurement starts.
        await BurstAsync(client, 0, 1);
        string before = await ScrapeAsync(server);

        await BurstAsync(client, 1, 500);
        string after = await ScrapeAsync(server);

        Assert.DoesNotMatch(MadeUp(), after);
        Assert.Contains("protocol=\"grpc\"", after, StringComparison.Ordinal);
        // New label values would show as new lines; existing series grow only in their digits.
        Assert.True(after.Length - before.Length < 16_384, $"/metrics grew from {before.Length} to {after.Length} bytes:\n{string.Join('\n', after.Split('\n').Except(before.Split('\n')).Take(20))}");
        Assert.True(await server.IsReadyAsync());
    }

    /// <summary>
    /// Names <c>made-up-i</c> and versions <c>xi</c> for i in [<paramref name="from"/>, +<paramref name="count"/>):
    /// unary calls, and the same inference requests on one stream; each is refused.
    /// </summary>
    private static async Task BurstAsync(GRPCInferenceService.GRPCInferenceServiceClient client, int from, int count)
    {
        var requests = new List<ModelInferRequest>();
        for (int i = from; i < from + count; i++)
        {
            requests.Add(GrpcWire.Request($"made-up-{i}", Ctr.Request, raw: true));
            var version = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true);
            version.ModelVersion = $"x{i}";
            requests.Add(version);
            var unknownVersion = GrpcWire.Request($"made-up-{i}", Ctr.Request, raw: true);
            unknownVersion.ModelVersion = $"{i + 2}";
            requests.Add(unknownVersion);
        }

        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(requests.Select(async r =>
        {
            await gate.WaitAsync();
            try
            {
                var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(r));
                Assert.True(e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument, $"{r.ModelName}/{r.ModelVersion}: {e.Status}");
            }
            finally
            {
                gate.Release();
            }
        }));

        for (int i = from; i < from + count; i++)
        {
            await Assert.ThrowsAsync<RpcException>(async () => await client.ModelMetadataAsync(new ModelMetadataRequest { Name = $"made-up-{i}" }));
            await Assert.ThrowsAsync<RpcException>(async () => await client.ModelReadyAsync(new ModelReadyRequest { Name = "ctr-ranker", Version = $"x{i}" }));
            await Assert.ThrowsAsync<RpcException>(async () => await client.ModelConfigAsync(new ModelConfigRequest { Name = $"made-up-{i}" }));
            await Assert.ThrowsAsync<RpcException>(async () => await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = $"made-up-{i}", Version = $"x{i}" }));
        }

        using var call = client.ModelStreamInfer();
        var writing = Task.Run(async () =>
        {
            foreach (var r in requests)
            {
                await call.RequestStream.WriteAsync(r);
            }

            await call.RequestStream.CompleteAsync();
        });
        int answers = 0;
        while (await call.ResponseStream.MoveNext())
        {
            Assert.NotEqual("", call.ResponseStream.Current.ErrorMessage);
            answers++;
        }

        await writing;
        Assert.Equal(requests.Count, answers);
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
