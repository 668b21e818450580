using Google.Protobuf;
using Grpc.Core;
using Inference;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// The gRPC face's share of <see cref="EchoAmplificationTests"/>: a model name, version or id of
/// about 1 MiB, sent to ModelMetadata, ModelReady, ModelInfer and on a ModelStreamInfer stream, gets
/// an answer that quotes at most a short prefix of it (the status's message, or the stream answer's
/// error_message and the names beside it), and the server stays ready.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class GrpcEchoBoundTests
{
    // The most an error answer may take (status message, or a whole stream answer): an error quotes
    // at most 128 characters of what the client sent.
    private const int SmallAnswer = 2048;

    // Under the 1 MiB that the RPCs other than inference take, with room for the message's other fields.
    private static readonly string Huge = new('<', (1 << 20) - 256);

    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task A_1_MiB_name_version_or_id_comes_back_as_a_short_prefix_on_every_rpc()
    {
        await using var server = await HostileServer.StartAsync(["--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker"]);
        using var channel = GrpcWire.Channel(server.GrpcAddress);
        var client = GrpcWire.Client(channel);
        var failures = new List<string>();
        long before = server.ResidentBytes();

        async Task Unary(string name, StatusCode expected, Func<Task> call)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            if (e.StatusCode != expected || e.Status.Detail.Length > SmallAnswer || e.Status.Detail.Contains(new string('<', 200), StringComparison.Ordinal))
            {
                failures.Add($"{name}: {e.StatusCode}, {e.Status.Detail.Length} characters: {e.Status.Detail[..Math.Min(200, e.Status.Detail.Length)]}");
            }
        }

        await Unary("ModelMetadata, name", StatusCode.NotFound, async () => await client.ModelMetadataAsync(new ModelMetadataRequest { Name = Huge }));
        await Unary("ModelMetadata, version", StatusCode.InvalidArgument, async () => await client.ModelMetadataAsync(new ModelMetadataRequest { Name = "ctr-ranker", Version = Huge }));
        await Unary("ModelReady, name", StatusCode.NotFound, async () => await client.ModelReadyAsync(new ModelReadyRequest { Name = Huge }));
        await Unary("ModelReady, version", StatusCode.InvalidArgument, async () => await client.ModelReadyAsync(new ModelReadyRequest { Name = "ctr-ranker", Version = Huge }));
        foreach (var (name, expected, request) in InferRequests())
        {
            await Unary("ModelInfer, " + name, expected, async () => await client.ModelInferAsync(request));
        }

        using (var call = client.ModelStreamInfer())
        {
            var requests = InferRequests().ToList();
            foreach (var (_, _, request) in requests)
            {
                await call.RequestStream.WriteAsync(request);
            }

            await call.RequestStream.CompleteAsync();
            int answers = 0;
            while (await call.ResponseStream.MoveNext())
            {
                var answer = call.ResponseStream.Current;
                answers++;
                if (answer.ErrorMessage.Length == 0 || answer.ErrorMessage.Contains(new string('<', 200), StringComparison.Ordinal) || answer.CalculateSize() > SmallAnswer)
                {
                    failures.Add($"ModelStreamInfer: {answer.CalculateSize()} bytes, error_message {answer.ErrorMessage[..Math.Min(200, answer.ErrorMessage.Length)]}");
                }
            }

            Assert.Equal(requests.Count, answers);
            Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(await server.IsReadyAsync());
        // Each message is read and refused on its own; nothing of it is kept. 512 MiB above the reading
        // before leaves room for the GC's slack and the machine's other work, as over HTTP.
        long after = server.ResidentBytes();
        Assert.True(after - before < (512L << 20), $"resident memory grew from {before >> 20} MiB to {after >> 20} MiB");
        // The connection still serves: a golden request after the hostile ones is answered as ever.

        var golden = GrpcWire.Result(await client.ModelInferAsync(GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true)));
        Wire.AssertClose(Ctr.Expected[0], golden.Outputs[0]);
    }

    /// <summary>Inference requests naming a ~1 MiB model, version or id, with the status each gets.</summary>
    private static IEnumerable<(string Name, StatusCode Expected, ModelInferRequest Request)> InferRequests()
    {
        yield return ("model", StatusCode.NotFound, GrpcWire.Request(Huge, Ctr.Request, raw: true));
        var version = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true);
        version.ModelVersion = Huge;
        yield return ("version", StatusCode.InvalidArgument, version);
        yield return ("id", StatusCode.InvalidArgument, GrpcWire.Request("ctr-ranker", Ctr.Request with { Id = Huge }, raw: true));
        var both = GrpcWire.Request(Huge, Ctr.Request with { Id = Huge }, raw: false);
        both.ModelVersion = Huge;
        yield return ("model, version and id", StatusCode.InvalidArgument, both);
    }
}
