using LowLatency.Client;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Client;

/// <summary>
/// The client's gRPC stream (<see cref="InferenceClient.OpenStream"/>) through the real server:
/// every golden case sent on one stream and each answer matched to its request by id, a request the
/// server refuses answered on the stream as an error naming it while the others are answered, and
/// the HTTP client refusing to open one.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientStreamTests(ServerFixture server)
{
    [Fact]
    public async Task Every_golden_case_on_one_stream_is_answered_once_by_id()
    {
        var cases = GoldenCase.All().Select(c => GoldenCase.Load((string)c[0], (string)c[1])).ToList();
        using var client = InferenceClient.ForGrpc(server.GrpcAddress);
        await using var stream = client.OpenStream(TimeSpan.FromSeconds(60));
        var reading = Task.Run(async () =>
        {
            var answers = new List<StreamAnswer>();
            while (await stream.ReadAsync() is { } answer)
            {
                answers.Add(answer);
            }

            return answers;
        });
        for (int i = 0; i < cases.Count; i++)
        {
            await stream.SendAsync(cases[i].Model, ClientTensors.Inputs(cases[i].Request), new InferOptions { RequestId = "case-" + i });
        }

        await stream.CompleteAsync();
        var answers = await reading;
        Assert.Equal(cases.Count, answers.Count);
        for (int i = 0; i < cases.Count; i++)
        {
            using var answer = Assert.Single(answers, a => a.Id == "case-" + i);
            Assert.Null(answer.Error);
            Assert.Equal(cases[i].Model, answer.Model);
            ClientTensors.AssertOutputs(cases[i].Expected, answer.Result!);
        }
    }

    [Fact]
    public async Task A_refused_request_is_an_error_on_the_stream_and_the_others_are_answered()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var client = InferenceClient.ForGrpc(server.GrpcAddress);
        await using var stream = client.OpenStream(TimeSpan.FromSeconds(60));
        await stream.SendAsync("ctr-ranker", ClientTensors.Inputs(golden.Request), new InferOptions { RequestId = "good-1" });
        await stream.SendAsync("no-such-model", ClientTensors.Inputs(golden.Request), new InferOptions { RequestId = "bad" });
        await stream.SendAsync("ctr-ranker", ClientTensors.Inputs(golden.Request), new InferOptions { RequestId = "good-2" });
        await stream.CompleteAsync();

        var answers = new List<StreamAnswer>();
        while (await stream.ReadAsync() is { } answer)
        {
            answers.Add(answer);
        }

        Assert.Equal(3, answers.Count);
        var bad = Assert.Single(answers, a => a.Error is not null);
        Assert.Equal("bad", bad.Id);
        Assert.Contains("no-such-model", bad.Error!.Message);
        foreach (var good in answers.Where(a => a.Error is null))
        {
            ClientTensors.AssertOutputs(golden.Expected, good.Result!);
            good.Dispose();
        }

        await Assert.ThrowsAsync<ArgumentException>(() => stream.SendAsync("ctr-ranker", ClientTensors.Inputs(golden.Request), new InferOptions { Timeout = TimeSpan.FromSeconds(1) }));
    }

    [Fact]
    public void The_HTTP_client_has_no_streams()
    {
        using var client = new InferenceClient(server.BaseAddress);
        Assert.Throws<NotSupportedException>(() => client.OpenStream());
    }
}
