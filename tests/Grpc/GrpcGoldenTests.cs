using Grpc.Core;
using Inference;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// Every golden case of every embedded model through the gRPC listener, with the generated client
/// (unchanged clients work): raw_input_contents and typed contents, at batch 1 and above.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrpcGoldenTests(ServerFixture server) : IDisposable
{
    private readonly global::Grpc.Net.Client.GrpcChannel _channel = GrpcWire.Channel(server.GrpcAddress);

    public void Dispose() => _channel.Dispose();

    public static IEnumerable<object[]> Cases()
    {
        foreach (var c in GoldenCase.All())
        {
            yield return [c[0], c[1], true];
            yield return [c[0], c[1], false];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Golden_case_matches_PyTorch(string model, string @case, bool raw)
    {
        var golden = GoldenCase.Load(model, @case);
        var call = GrpcWire.Client(_channel).ModelInferAsync(GrpcWire.Request(model, golden.Request, raw));
        var response = await call;
        var result = GrpcWire.Result(response);
        Assert.Equal(model, result.ModelName);
        Assert.Equal("1", result.ModelVersion);
        Assert.Equal(golden.Request.Id, result.Id);
        Assert.Equal(golden.Expected.Count, result.Outputs.Count);
        for (int i = 0; i < golden.Expected.Count; i++)
        {
            Wire.AssertClose(golden.Expected[i], result.Outputs[i]);
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Matches(@"^queue;dur=[0-9.]+, compute;dur=[0-9.]+, overhead;dur=[0-9.]+$", call.GetTrailers().GetValue("server-timing"));
    }

    [Fact]
    public async Task An_explicit_version_and_an_output_list_are_honoured()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        var request = GrpcWire.Request("ctr-ranker", golden.Request with { Outputs = ["probability"] }, raw: true);
        request.ModelVersion = "1";
        var result = GrpcWire.Result(await GrpcWire.Client(_channel).ModelInferAsync(request));
        Wire.AssertClose(golden.Expected[0], Assert.Single(result.Outputs));
    }

    [Fact]
    public async Task Many_concurrent_calls_each_get_their_own_rows()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        var sparse = golden.Request.Inputs[0];
        var dense = golden.Request.Inputs[1];
        var client = GrpcWire.Client(_channel);
        var calls = new List<(int Row, Task<ModelInferResponse> Call)>();
        for (int rep = 0; rep < 8; rep++)
        {
            for (int row = 0; row < 8; row++)
            {
                var doc = new InferDoc($"row{row}", [
                    new TensorDoc("sparse", "INT64", [1, 26], sparse.Values.Skip(row * 26).Take(26).ToArray()),
                    new TensorDoc("dense", "FP32", [1, 13], dense.Values.Skip(row * 13).Take(13).ToArray()),
                ]);
                calls.Add((row, client.ModelInferAsync(GrpcWire.Request("ctr-ranker", doc, raw: rep % 2 == 0)).ResponseAsync));
            }
        }

        foreach (var (row, call) in calls)
        {
            var result = GrpcWire.Result(await call);
            Assert.Equal($"row{row}", result.Id);
            Wire.AssertClose(new TensorDoc("probability", "FP32", [1, 1], [golden.Expected[0].Values[row]]), result.Outputs[0]);
        }
    }
}
