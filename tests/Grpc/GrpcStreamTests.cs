using Grpc.Core;
using Inference;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// ModelStreamInfer: hundreds of requests on one stream, models interleaved, some bad: every good one
/// answered with its id and its own outputs, every bad one with an in-band error naming it, the stream
/// going on; with <c>triton_grpc_error: true</c> the first error ends the stream with its status.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrpcStreamTests(ServerFixture server) : IDisposable
{
    private readonly global::Grpc.Net.Client.GrpcChannel _channel = GrpcWire.Channel(server.GrpcAddress);

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task Hundreds_of_interleaved_requests_are_each_answered_with_their_id_and_errors_stay_in_band()
    {
        var cases = new[] { ("ctr-ranker", "batch1"), ("ctr-ranker", "batch8"), ("text-encoder", "single-len40"), ("text-encoder", "batch4-padded"), ("image-classifier", "batch1") }
            .Select(c => GoldenCase.Load(c.Item1, c.Item2)).ToArray();
        var sent = new Dictionary<string, GoldenCase?>();
        using var call = GrpcWire.Client(_channel).ModelStreamInfer();
        var reading = Task.Run(async () =>
        {
            var answers = new List<ModelStreamInferResponse>();
            await foreach (var answer in call.ResponseStream.ReadAllAsync())
            {
                answers.Add(answer);
            }

            return answers;
        });

        for (int i = 0; i < 300; i++)
        {
            string id = $"r{i}";
            if (i % 10 == 7)
            {
                // A bad one: an input the model does not have.
                var bad = GrpcWire.Request("ctr-ranker", cases[0].Request with { Id = id }, raw: i % 20 == 7);
                bad.Inputs[0].Name = "sparse_ids";
                await call.RequestStream.WriteAsync(bad);
                sent[id] = null;
                continue;
            }

            var golden = cases[i % cases.Length];
            await call.RequestStream.WriteAsync(GrpcWire.Request(golden.Model, golden.Request with { Id = id }, raw: i % 3 != 0));
            sent[id] = golden;
        }

        await call.RequestStream.CompleteAsync();
        var answers = await reading;
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(sent.Count, answers.Count);
        Assert.Equal(sent.Keys.Order(StringComparer.Ordinal), answers.Select(a => a.InferResponse.Id).Order(StringComparer.Ordinal));
        foreach (var answer in answers)
        {
            var golden = sent[answer.InferResponse.Id];
            if (golden is null)
            {
                Assert.Contains("unknown input 'sparse_ids'", answer.ErrorMessage, StringComparison.Ordinal);
                continue;
            }

            Assert.Equal("", answer.ErrorMessage);
            var result = GrpcWire.Result(answer.InferResponse);
            Assert.Equal(golden.Model, result.ModelName);
            Wire.AssertClose(golden.Expected[0], result.Outputs[0]);
        }
    }

    [Fact]
    public async Task With_triton_grpc_error_the_first_error_ends_the_stream_with_its_status()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var call = GrpcWire.Client(_channel).ModelStreamInfer(new Metadata { { "triton_grpc_error", "true" } });
        await call.RequestStream.WriteAsync(GrpcWire.Request("ctr-ranker", golden.Request with { Id = "good" }, raw: true));
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("good", call.ResponseStream.Current.InferResponse.Id);

        await call.RequestStream.WriteAsync(GrpcWire.Request("no-such-model", golden.Request with { Id = "bad" }, raw: true));
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext())
            {
            }
        });
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("unknown model 'no-such-model'", e.Status.Detail, StringComparison.Ordinal);
    }
}
