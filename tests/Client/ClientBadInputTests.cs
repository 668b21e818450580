using System.Net;
using LowLatency.Client;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Client;

/// <summary>
/// The server's refusals as the client reports them: one <see cref="InferenceException"/> with the
/// mapped status, the HTTP status and the server's own message, in both HTTP encodings; never
/// retried; the client keeps working after each. Mirrors a representative part of
/// <see cref="EndToEnd.BadInputTests"/>; what the client can refuse itself it refuses before sending.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientBadInputTests(ServerFixture server)
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    private static InferDoc CtrWith(Func<TensorDoc, TensorDoc> sparse) => Ctr.Request with { Inputs = [sparse(Ctr.Request.Inputs[0]), Ctr.Request.Inputs[1]] };

    public static IEnumerable<object[]> BadDocuments()
    {
        // (case, model, document, status, expected substring of the server's message)
        (string, string, InferDoc, InferenceStatus, string)[] cases =
        [
            ("unknown input", "ctr-ranker", CtrWith(t => t with { Name = "sparse_ids" }), InferenceStatus.InvalidArgument, "unknown input 'sparse_ids'"),
            ("wrong datatype", "ctr-ranker", CtrWith(t => t with { Datatype = "INT32" }), InferenceStatus.InvalidArgument, "datatype INT32 does not match the model's INT64"),
            ("shape disagrees with config", "ctr-ranker", CtrWith(t => t with { Shape = [1, 25], Values = t.Values[..25] }), InferenceStatus.InvalidArgument, "does not match the model's [-1,26]"),
            ("wrong rank", "ctr-ranker", CtrWith(t => t with { Shape = [26] }), InferenceStatus.InvalidArgument, "has rank 1, the model expects 2"),
            ("batch over max_batch_size", "ctr-ranker", CtrWith(t => ClientTensors.Stacked(t, 65)), InferenceStatus.InvalidArgument, "outside [1, 64]"),
            ("zero batch", "ctr-ranker", CtrWith(t => t with { Shape = [0, 26], Values = [] }), InferenceStatus.InvalidArgument, "outside [1, 64]"),
            ("missing input", "ctr-ranker", Ctr.Request with { Inputs = [Ctr.Request.Inputs[1]] }, InferenceStatus.InvalidArgument, "missing input 'sparse'"),
            ("duplicate input", "ctr-ranker", Ctr.Request with { Inputs = [Ctr.Request.Inputs[0], Ctr.Request.Inputs[0], Ctr.Request.Inputs[1]] }, InferenceStatus.InvalidArgument, "appears more than once"),
            ("unknown output", "ctr-ranker", Ctr.Request with { Outputs = ["logits"] }, InferenceStatus.InvalidArgument, "unknown output 'logits'"),
            ("batch sizes disagree", "ctr-ranker", CtrWith(t => ClientTensors.Stacked(t, 2)), InferenceStatus.InvalidArgument, "batch size 1 differs"),
            ("id over 256 bytes", "ctr-ranker", Ctr.Request with { Id = new string('i', 257) }, InferenceStatus.InvalidArgument, "'id' is longer than 256 bytes"),
            ("sequence over the model's limit", "text-encoder", TextEncoder(Enumerable.Repeat(3.0, 129).ToArray(), Enumerable.Repeat(1.0, 129).ToArray()), InferenceStatus.InvalidArgument, "larger than the model's limit 128"),
            ("input the model rejects", "text-encoder", TextEncoder([1, 2, 3, 4], [0, 0, 0, 0]), InferenceStatus.InvalidArgument, "model 'text-encoder' rejected the input"),
            ("unknown model", "no-such-model", Ctr.Request, InferenceStatus.NotFound, "unknown model 'no-such-model'"),
        ];
        foreach (var (name, model, doc, status, expected) in cases)
        {
            yield return [name, model, doc, status, expected, HttpBodyEncoding.MessagePack];
            yield return [name, model, doc, status, expected, HttpBodyEncoding.JsonBinary];
        }
    }

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task A_refusal_carries_its_status_and_the_servers_message(string @case, string model, InferDoc doc, InferenceStatus status, string expected, HttpBodyEncoding encoding)
    {
        _ = @case;
        using var client = Client(encoding);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(model, ClientTensors.Inputs(doc), ClientTensors.Options(doc)));

        Assert.Equal(status, e.Status);
        Assert.Equal(status == InferenceStatus.NotFound ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest, e.HttpStatus);
        Assert.Null(e.GrpcStatus);
        Assert.Contains(expected, e.ServerMessage, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(e.IsSafeToRetry);
        Assert.Equal(1, e.Attempts);
        await AssertStillAnswersAsync(client);
    }

    [Theory]
    [InlineData("7", InferenceStatus.NotFound, HttpStatusCode.NotFound, "has no version 7")]
    [InlineData("x1", InferenceStatus.InvalidArgument, HttpStatusCode.BadRequest, "version 'x1' is not a positive integer")]
    public async Task An_unknown_or_malformed_version_is_refused(string version, InferenceStatus status, HttpStatusCode http, string expected)
    {
        using var client = Client(HttpBodyEncoding.MessagePack);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("ctr-ranker", ClientTensors.Inputs(Ctr.Request), new InferOptions { ModelVersion = version }));

        Assert.Equal(status, e.Status);
        Assert.Equal(http, e.HttpStatus);
        Assert.Contains(expected, e.ServerMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpBodyEncoding.MessagePack)]
    [InlineData(HttpBodyEncoding.JsonBinary)]
    public async Task A_body_over_the_servers_limit_is_PayloadTooLarge(HttpBodyEncoding encoding)
    {
        // The fixture's limit is 1 MiB; 32 images of 3x64x64 FP32 are 1.5 MiB.
        using var client = Client(encoding);
        var images = new float[32 * 3 * 64 * 64];

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("image-classifier", [InferInput.Create("image", images, 32, 3, 64, 64)]));

        Assert.Equal(InferenceStatus.PayloadTooLarge, e.Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, e.HttpStatus);
        Assert.Contains("exceeds the limit of 1048576 bytes", e.ServerMessage, StringComparison.Ordinal);
        await AssertStillAnswersAsync(client);
    }

    [Fact]
    public void What_the_client_can_tell_is_wrong_is_refused_before_sending()
    {
        var data = new float[13];
        Assert.Contains("holds 26 elements", Assert.Throws<ArgumentException>(() => InferInput.Create("dense", data, 2, 13)).Message, StringComparison.Ordinal);
        Assert.Contains("negative dimension", Assert.Throws<ArgumentException>(() => InferInput.Create("dense", data, -1, 13)).Message, StringComparison.Ordinal);
        Assert.Contains("not a tensor element type", Assert.Throws<ArgumentException>(() => InferInput.Create("dense", new decimal[1], 1)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => InferInput.Create("", data, 1, 13));
        Assert.Throws<ArgumentException>(() => InferInput.Create("dense", data, new long[17]));
    }

    [Fact]
    public async Task A_call_with_default_inputs_or_a_negative_priority_is_refused_before_sending()
    {
        using var client = Client(HttpBodyEncoding.MessagePack);
        await Assert.ThrowsAsync<ArgumentException>(() => client.InferAsync("ctr-ranker", new InferInput[2]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.InferAsync("ctr-ranker", ClientTensors.Inputs(Ctr.Request), new InferOptions { Priority = -1 }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.InferAsync(string.Empty, ClientTensors.Inputs(Ctr.Request)));
    }

    private static InferDoc TextEncoder(double[] ids, double[] mask) =>
        new(null, [new TensorDoc("input_ids", "INT64", [1, ids.Length], ids), new TensorDoc("attention_mask", "INT64", [1, mask.Length], mask)]);

    private static async Task AssertStillAnswersAsync(InferenceClient client)
    {
        using var result = await client.InferAsync("ctr-ranker", ClientTensors.Inputs(Ctr.Request));
        ClientTensors.AssertOutputs(Ctr.Expected, result);
    }

    private InferenceClient Client(HttpBodyEncoding encoding) =>
        new(new InferenceClientOptions { Address = server.BaseAddress, HttpEncoding = encoding });
}
