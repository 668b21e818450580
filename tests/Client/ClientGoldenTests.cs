using LowLatency.Client;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Client;

/// <summary>
/// Every golden case of every embedded model through the client, over HTTP with MessagePack and
/// with Triton's JSON and binary tensors: as recorded, and stacked into a larger batch.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientGoldenTests(ServerFixture server)
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var c in GoldenCase.All())
        {
            foreach (var encoding in new[] { HttpBodyEncoding.MessagePack, HttpBodyEncoding.JsonBinary })
            {
                yield return [c[0], c[1], encoding, 1];
                yield return [c[0], c[1], encoding, 2];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Golden_case_matches_PyTorch(string model, string @case, HttpBodyEncoding encoding, int times)
    {
        var golden = GoldenCase.Load(model, @case);
        var request = times == 1 ? golden.Request : ClientTensors.Stacked(golden.Request, times);
        var expected = times == 1 ? golden.Expected : [.. golden.Expected.Select(t => ClientTensors.Stacked(t, times))];
        using var client = Client(encoding);

        using var result = await client.InferAsync(model, ClientTensors.Inputs(request), ClientTensors.Options(request));

        Assert.Equal(model, result.ModelName);
        Assert.Equal("1", result.ModelVersion);
        Assert.Equal(request.Id, result.Id);
        Assert.False(result.IsDegraded);
        ClientTensors.AssertOutputs(expected, result);
        Assert.True(result.ServerTiming.IsPresent);
        Assert.True(result.ServerTiming.Compute > TimeSpan.Zero);
    }

    /// <summary>Sequences of different lengths at once: each is padded to the batch's longest and still gets its own answer.</summary>
    [Theory]
    [InlineData(HttpBodyEncoding.MessagePack)]
    [InlineData(HttpBodyEncoding.JsonBinary)]
    public async Task Text_encoder_requests_of_mixed_lengths_each_get_their_own_answer(HttpBodyEncoding encoding)
    {
        var cases = new[] { "single-len5", "single-len40", "single-len77", "single-len128", "batch1", "batch4-padded" }.Select(c => GoldenCase.Load("text-encoder", c)).ToList();
        using var client = Client(encoding);
        for (int round = 0; round < 5; round++)
        {
            var calls = cases.Select(c => client.InferAsync("text-encoder", ClientTensors.Inputs(c.Request), ClientTensors.Options(c.Request))).ToList();
            var results = await Task.WhenAll(calls);
            for (int i = 0; i < cases.Count; i++)
            {
                using var result = results[i];
                Assert.Equal(cases[i].Request.Id, result.Id);
                ClientTensors.AssertOutputs(cases[i].Expected, result);
            }
        }
    }

    [Fact]
    public async Task Concurrent_single_rows_over_one_client_each_get_their_own_answer()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        var sparse = golden.Request.Inputs[0].Values.Select(v => (long)v).ToArray();
        var dense = golden.Request.Inputs[1].Values.Select(v => (float)v).ToArray();
        using var client = Client(HttpBodyEncoding.MessagePack);
        var calls = new List<Task<(int Row, float Probability, string? Id)>>();
        for (int rep = 0; rep < 8; rep++)
        {
            for (int row = 0; row < 8; row++)
            {
                calls.Add(RowAsync(row));
            }
        }

        foreach (var (row, probability, id) in await Task.WhenAll(calls))
        {
            Assert.Equal($"row{row}", id);
            Wire.AssertClose(new TensorDoc("p", "FP32", [1], [golden.Expected[0].Values[row]]), new TensorDoc("p", "FP32", [1], [probability]));
        }

        async Task<(int, float, string?)> RowAsync(int row)
        {
            // Slices of one array: the inputs are views, nothing is copied until the body is encoded.
            InferInput[] inputs =
            [
                InferInput.Create("sparse", sparse.AsMemory(row * 26, 26), 1, 26),
                InferInput.Create("dense", dense.AsMemory(row * 13, 13), 1, 13),
            ];
            using var result = await client.InferAsync("ctr-ranker", inputs, new InferOptions { RequestId = $"row{row}" });
            return (row, result.Output("probability").As<float>()[0], result.Id);
        }
    }

    [Theory]
    [InlineData(HttpBodyEncoding.MessagePack)]
    [InlineData(HttpBodyEncoding.JsonBinary)]
    public async Task Scheduling_options_an_explicit_version_and_a_routing_key_are_accepted(HttpBodyEncoding encoding)
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var client = Client(encoding);
        var options = new InferOptions
        {
            ModelVersion = "1",
            RequestId = "scheduled",
            Priority = 1,
            Qos = QosClass.Realtime,
            Timeout = TimeSpan.FromSeconds(10),
            RoutingKey = "user-42",
            Outputs = ["probability"],
        };

        using var result = await client.InferAsync("ctr-ranker", ClientTensors.Inputs(golden.Request), options);

        Assert.Equal("scheduled", result.Id);
        Assert.Equal("1", result.ModelVersion);
        ClientTensors.AssertOutputs(golden.Expected, result);
    }

    [Fact]
    public async Task An_output_is_found_by_name_and_read_as_its_type_only()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var client = Client(HttpBodyEncoding.MessagePack);
        using var result = await client.InferAsync("ctr-ranker", ClientTensors.Inputs(golden.Request));

        Assert.True(result.TryGetOutput("probability", out var output));
        Assert.True(output.NameEquals("probability"));
        Assert.Equal(TensorDatatype.FP32, output.Datatype);
        Assert.Equal([1L, 1L], output.Shape.ToArray());
        Assert.Equal(1, output.ElementCount);
        Assert.Equal(4, output.Bytes.Length);
        Assert.False(result.TryGetOutput("logits", out _));
        Assert.Throws<KeyNotFoundException>(() => result.Output("logits"));
        Assert.Throws<InvalidOperationException>(() => result.Output("probability").As<double>().Length);
        Assert.Single(result.Output("probability").ToArray<float>());
    }

    [Fact]
    public async Task A_disposed_result_refuses_to_be_read()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var client = Client(HttpBodyEncoding.MessagePack);
        var result = await client.InferAsync("ctr-ranker", ClientTensors.Inputs(golden.Request));
        var output = result[0];
        result.Dispose();
        result.Dispose();

        Assert.Throws<ObjectDisposedException>(() => output.Bytes.Length);
    }

    private InferenceClient Client(HttpBodyEncoding encoding) =>
        new(new InferenceClientOptions { Address = server.BaseAddress, HttpEncoding = encoding });
}
