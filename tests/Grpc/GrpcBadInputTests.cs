using Google.Protobuf;
using Grpc.Core;
using Inference;
using LowLatency.Tests.EndToEnd;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// Every bad input REST answers 400 is INVALID_ARGUMENT over gRPC, naming what is wrong (the same
/// message), in both data forms; unknown models and versions NOT_FOUND; never INTERNAL or UNKNOWN;
/// and the server answers correctly afterwards.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrpcBadInputTests(ServerFixture server) : IDisposable
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    private readonly global::Grpc.Net.Client.GrpcChannel _channel = GrpcWire.Channel(server.GrpcAddress);

    public void Dispose() => _channel.Dispose();

    public static IEnumerable<object[]> BadDocuments()
    {
        foreach (var row in BadInputTests.BadDocuments())
        {
            string @case = (string)row[0];
            if (@case == "unsupported datatype")
            {
                // BYTES has no raw form the test encoder writes; covered below.
                continue;
            }

            yield return [@case, row[1], row[2], true];
            yield return [@case, row[1], row[2], false];
        }
    }

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task Bad_document_is_INVALID_ARGUMENT_naming_the_problem(string @case, InferDoc doc, string expected, bool raw)
    {
        _ = @case;
        if (!raw && @case is "data shorter than shape" or "data longer than shape")
        {
            expected = "has ";
        }

        await ExpectAsync(GrpcWire.Request("ctr-ranker", doc, raw), StatusCode.InvalidArgument, expected);
    }

    public static IEnumerable<object[]> BadMessages()
    {
        var good = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true);
        yield return ["unsupported datatype", With(good, r => r.Inputs[0].Datatype = "FP8"), "unsupported datatype 'FP8'"];
        yield return ["BYTES to a model input", With(good, r => r.Inputs[0].Datatype = "BYTES"), "input 'sparse': datatype BYTES is taken only for the ids of a STRING entity (an entity input of the model's features); this input takes INT64"];
        yield return ["missing datatype", With(good, r => r.Inputs[0].Datatype = ""), "input 'sparse': missing 'datatype'"];
        yield return ["missing name", With(good, r => r.Inputs[0].Name = ""), "inputs[0]: missing 'name'"];
        yield return ["no model name", With(good, r => r.ModelName = ""), "model_name is required"];
        yield return ["fewer raw entries", With(good, r => r.RawInputContents.RemoveAt(1)), "raw_input_contents has 1 entries for 2 inputs"];
        yield return ["mixed raw and typed", With(good, r => r.Inputs[1].Contents = GrpcWire.Contents("FP32", new double[13])), "'contents' is set while the request carries raw_input_contents"];
        yield return ["no data", With(GrpcWire.Request("ctr-ranker", Ctr.Request, raw: false), r => r.Inputs[0].Contents = null), "input 'sparse': no data"];
        yield return ["typed contents of another type", With(GrpcWire.Request("ctr-ranker", Ctr.Request, raw: false), r => r.Inputs[0].Contents = GrpcWire.Contents("FP32", new double[26])), "datatype INT64 takes contents.int64_contents, not contents.fp32_contents"];
        yield return ["id too long", With(good, r => r.Id = new string('x', 257)), "'id' is longer than 256 bytes"];
        yield return ["bad priority", With(good, r => r.Parameters["priority"] = new InferParameter { StringParam = "high" }), "parameters.priority must be a non-negative integer"];
        yield return ["negative timeout", With(good, r => r.Parameters["timeout"] = new InferParameter { Int64Param = -1 }), "parameters.timeout must be a non-negative integer"];
        yield return ["bad qos", With(good, r => r.Parameters["qos"] = new InferParameter { StringParam = "urgent" }), "'urgent' is not realtime, balanced or throughput"];
        yield return ["unknown output", With(good, r => r.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "logits" })), "unknown output 'logits'"];
        yield return ["bad version", With(good, r => r.ModelVersion = "x1"), "version 'x1' is not a positive integer"];
        yield return ["rank over 16", With(good, r => r.Inputs[0].Shape.AddRange(Enumerable.Repeat(1L, 16))), "inputs[0].shape has more than 16 dimensions"];
    }

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task Bad_message_is_INVALID_ARGUMENT_naming_the_field(string @case, ModelInferRequest request, string expected)
    {
        _ = @case;
        await ExpectAsync(request, StatusCode.InvalidArgument, expected);
    }

    [Theory]
    [InlineData("no-such-model", "", "unknown model 'no-such-model'")]
    [InlineData("ctr-ranker", "7", "has no version 7")]
    public async Task Unknown_model_or_version_is_NOT_FOUND(string model, string version, string expected)
    {
        var request = GrpcWire.Request(model, Ctr.Request, raw: true);
        request.ModelVersion = version;
        await ExpectAsync(request, StatusCode.NotFound, expected);
    }

    [Fact]
    public async Task A_model_that_rejects_its_input_is_INVALID_ARGUMENT()
    {
        var masked = new InferDoc(null, [new TensorDoc("input_ids", "INT64", [1, 4], [1, 2, 3, 4]), new TensorDoc("attention_mask", "INT64", [1, 4], [0, 0, 0, 0])]);
        await ExpectAsync(GrpcWire.Request("text-encoder", masked, raw: true), StatusCode.InvalidArgument, "model 'text-encoder' rejected the input");
    }

    [Fact]
    public async Task A_message_over_the_limit_is_RESOURCE_EXHAUSTED()
    {
        // The fixture's limit is 1 MiB.
        var request = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true);
        request.Parameters["padding"] = new InferParameter { StringParam = new string('p', 1 << 20) };
        await ExpectAsync(request, StatusCode.ResourceExhausted, "exceeds the limit of 1048576 bytes (LowLatency:MaxRequestBodyBytes)");
    }

    [Fact]
    public async Task Unknown_fields_are_skipped()
    {
        var bytes = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true).ToByteArray();
        // Field 99 (varint) and field 100 (length-delimited) before the rest.
        byte[] extra = [.. new byte[] { 0x98, 0x06, 0x2A, 0xA2, 0x06, 0x03, 1, 2, 3 }, .. bytes];
        var response = await GrpcWire.Client(_channel).ModelInferAsync(ModelInferRequest.Parser.ParseFrom(extra));
        Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(response).Outputs[0]);
    }

    private async Task ExpectAsync(ModelInferRequest request, StatusCode status, string expected)
    {
        var client = GrpcWire.Client(_channel);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(request));
        Assert.True(status == e.StatusCode, $"expected {status}, got {e.StatusCode}: {e.Status.Detail}");
        Assert.Contains(expected, e.Status.Detail, StringComparison.Ordinal);

        // And the server still answers a valid request correctly.
        var result = GrpcWire.Result(await client.ModelInferAsync(GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true)));
        Wire.AssertClose(Ctr.Expected[0], result.Outputs[0]);
    }

    private static ModelInferRequest With(ModelInferRequest request, Action<ModelInferRequest> change)
    {
        var copy = request.Clone();
        change(copy);
        return copy;
    }
}
