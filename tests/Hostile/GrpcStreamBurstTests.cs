using Google.Protobuf;
using Grpc.Core;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Many streams send a large message each at once over gRPC (ModelStreamInfer): each is answered
/// in-band, small calls go on being served, and the memory the burst took is given back within
/// seconds, as after a burst of HTTP bodies (<see cref="RequestBodyBurstTests"/>).
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class GrpcStreamBurstTests
{
    private const long MiB = 1 << 20;
    private const int Streams = 24;
    private const int MessageBytes = 32 << 20;

    /// <summary>How far above its level before a burst the server's resident memory may stay once it is over (docs/operations.md#memory-after-a-burst).</summary>
    private const long FallBackBound = 96 * MiB;

    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task Resident_memory_falls_back_within_seconds_after_a_burst_of_large_stream_messages()
    {
        await using var server = await HostileServer.StartAsync([$"--LowLatency:MaxBufferedRequestBodyBytes={512 * MiB}", "--Logging:LogLevel:LowLatency.Host.Memory=Information"]);
        using var channel = GrpcWire.Channel(server.GrpcAddress);
        var client = GrpcWire.Client(channel);
        for (int i = 0; i < 200; i++)
        {
            await GoldenAsync(client);
        }

        long before = server.ResidentBytes();
        await using var traffic = new BackgroundTraffic(server, () => GoldenAsync(client), before);

        // A request whose first raw input is 32 MiB, far past its shape: refused in-band once read.
        var large = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true);
        large.RawInputContents[0] = ByteString.CopyFrom(new byte[MessageBytes]);
        var answers = await Task.WhenAll(Enumerable.Range(0, Streams).Select(async _ =>
        {
            using var streamChannel = GrpcWire.Channel(server.GrpcAddress);
            using var call = GrpcWire.Client(streamChannel).ModelStreamInfer();
            await call.RequestStream.WriteAsync(large);
            await call.RequestStream.CompleteAsync();
            return await call.ResponseStream.MoveNext(CancellationToken.None) ? call.ResponseStream.Current.ErrorMessage : "no answer";
        }));
        long after = server.ResidentBytes();
        long settled = await server.ResidentBytesFallingToAsync(before + FallBackBound, TimeSpan.FromSeconds(10));
        await traffic.StopAsync();
        long peak = traffic.Peak;

        Assert.All(answers, a => Assert.True(a.Length > 0 && a != "no answer", $"a large message's answer: '{a}'"));
        Assert.True(peak - before > 256 * MiB, $"the burst took only {(peak - before) / MiB} MiB: the test shows nothing");
        Assert.True(settled <= before + FallBackBound, $"resident memory {before / MiB} MiB before the burst, {peak / MiB} at its peak, {after / MiB} at its end, still {settled / MiB} 10 s later ({traffic.Served} calls served meanwhile)\n{server.Log}");
        Assert.True(await server.IsReadyAsync());
        await GoldenAsync(client);
    }

    private static async Task GoldenAsync(Inference.GRPCInferenceService.GRPCInferenceServiceClient client) =>
        Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(await client.ModelInferAsync(GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true))).Outputs[0]);
}
