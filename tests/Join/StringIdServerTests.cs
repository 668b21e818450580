using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// Feature-joined inference with STRING entity ids through the server's faces: the golden's request
/// with its user ids as strings in a BYTES input (JSON strings, MessagePack str, bin or BYTES
/// serialization, the binary tensor extension, gRPC raw and bytes_contents) answers PyTorch's
/// output over the golden's joined tensors, with the golden's statuses (an unknown id NOT_FOUND);
/// a bad id or a BYTES input where none belongs is a 400 naming the input.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class StringIdServerTests(StringIdServerFixture fixture) : IClassFixture<StringIdServerFixture>
{
    private const string Infer = "/v2/models/candidate-ranker/infer";

    private InferDoc Others => StringIds.Others(fixture.Golden.Request);

    private string[] Ids => StringIds.Ids(fixture.Golden.Request);

    [Fact]
    public async Task JSON_strings_answer_the_golden_with_an_unknown_id_NOT_FOUND()
    {
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(StringIds.Json(Others, Ids), Wire.Json));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, Encoding.UTF8.GetString(body));
        Wire.AssertClose(fixture.Golden.Expected[0], Wire.ParseJson(body).Outputs[0]);
        using var doc = JsonDocument.Parse(body);

        // The golden's last two rows are user 4040, pushed by no one.
        Assert.Equal(fixture.Golden.ExpectedStatuses, doc.RootElement.GetProperty("parameters").GetProperty("feature_statuses").GetString());
        Assert.Contains("user_activity:PRESENT,PRESENT,PRESENT,PRESENT,NOT_FOUND,NOT_FOUND", fixture.Golden.ExpectedStatuses);
    }

    [Theory]
    [InlineData(StringIds.MsgPackForm.Strings)]
    [InlineData(StringIds.MsgPackForm.Bins)]
    [InlineData(StringIds.MsgPackForm.Serialized)]
    public async Task MessagePack_answers_the_golden_whichever_way_it_carries_the_ids(StringIds.MsgPackForm form)
    {
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(StringIds.MsgPack(Others, StringIds.Utf8(Ids), form), Wire.MsgPack));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, response.IsSuccessStatusCode ? null : Wire.ErrorOf(body, Wire.MsgPack));
        Wire.AssertClose(fixture.Golden.Expected[0], Wire.ParseMsgPack(body).Outputs[0]);
        var map = (Dictionary<object, object>)MessagePack.MessagePackSerializer.Deserialize<object>(body)!;
        Assert.Equal(fixture.Golden.ExpectedStatuses, ((Dictionary<object, object>)map["parameters"])["feature_statuses"]);
    }

    [Theory]
    [InlineData(LowLatency.Client.InferenceTransport.Http, LowLatency.Client.HttpBodyEncoding.MessagePack)]
    [InlineData(LowLatency.Client.InferenceTransport.Http, LowLatency.Client.HttpBodyEncoding.JsonBinary)]
    [InlineData(LowLatency.Client.InferenceTransport.Grpc, LowLatency.Client.HttpBodyEncoding.MessagePack)]
    public async Task The_client_sends_string_ids_as_BYTES_on_each_transport_and_gets_the_golden(LowLatency.Client.InferenceTransport transport, LowLatency.Client.HttpBodyEncoding encoding)
    {
        var address = transport == LowLatency.Client.InferenceTransport.Grpc ? ServerFixture.GrpcAddressOf(fixture.App) : fixture.Client.BaseAddress!;
        using var client = new LowLatency.Client.InferenceClient(new LowLatency.Client.InferenceClientOptions { Address = address, Transport = transport, HttpEncoding = encoding });
        var inputs = new List<LowLatency.Client.InferInput>(Client.ClientTensors.Inputs(Others))
        {
            LowLatency.Client.InferInput.FromStrings(StringIds.Input, Ids, Ids.Length, 1),
        };

        using var result = await client.InferAsync(JoinedGolden.Model, inputs);
        Client.ClientTensors.AssertOutputs([fixture.Golden.Expected[0]], result);
        Assert.Equal(fixture.Golden.ExpectedStatuses, result.FeatureStatuses);
    }

    [Fact]
    public async Task Binary_tensors_answer_the_golden()
    {
        var (bytes, jsonLength) = StringIds.Binary(Others, StringIds.Serialize(Ids), Ids.Length);
        using var response = await fixture.Client.PostAsync(Infer, BinaryBody(bytes, jsonLength));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, Encoding.UTF8.GetString(body));
        Wire.AssertClose(fixture.Golden.Expected[0], Wire.ParseJson(body).Outputs[0]);
    }

    [Fact]
    public async Task GRPC_raw_and_bytes_contents_answer_the_golden_and_the_metadata_says_BYTES()
    {
        using var channel = GrpcWire.Channel(ServerFixture.GrpcAddressOf(fixture.App));
        var client = GrpcWire.Client(channel);
        foreach (bool raw in new[] { true, false })
        {
            var response = await client.ModelInferAsync(StringIds.Grpc(Others, StringIds.Utf8(Ids), raw));
            Wire.AssertClose(fixture.Golden.Expected[0], GrpcWire.Result(response).Outputs[0]);
            Assert.Equal(fixture.Golden.ExpectedStatuses, response.Parameters["feature_statuses"].StringParam);
        }

        var metadata = await client.ModelMetadataAsync(new Inference.ModelMetadataRequest { Name = JoinedGolden.Model });
        var user = metadata.Inputs.Single(t => t.Name == StringIds.Input);
        Assert.Equal("BYTES", user.Datatype);
        Assert.Equal([-1L, 1L], user.Shape);
        Assert.Equal("INT64", metadata.Inputs.Single(t => t.Name == "item_id").Datatype);
    }

    [Fact]
    public async Task The_REST_metadata_says_BYTES_for_the_STRING_entity()
    {
        using var metadata = JsonDocument.Parse(await fixture.Client.GetByteArrayAsync("/v2/models/candidate-ranker"));
        var user = metadata.RootElement.GetProperty("inputs").EnumerateArray().Single(i => i.GetProperty("name").GetString() == StringIds.Input);
        Assert.Equal("BYTES", user.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 1L], user.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    public static TheoryData<string, string> BadJson => new()
    {
        { Json(["usér-1001-ü", new string('x', 65)]), "input 'user_id': the id of row 1 is 65 bytes, over the 64 this input takes (its max_id_bytes in the model's features.entities)" },
        { Json(["usér-1001-ü", string.Empty]), "input 'user_id': the id of row 1 is empty" },
        { Json(["a", "b", "c"], "[2, 1]"), "input 'user_id': data has more than the 2 elements shape [2,1] holds" },
        { Json(["a"], "[2, 1]"), "input 'user_id': data has 1 elements, shape [2,1] needs 2" },
        { """{"inputs": [{"name": "user_id", "datatype": "BYTES", "shape": [1, 1], "data": [7]}]}""", "input 'user_id': element 0 must be a string (BYTES)" },
        { """{"inputs": [{"name": "user_id", "datatype": "INT64", "shape": [1, 1], "data": [7]}]}""", "input 'user_id': datatype INT64 does not match the model's BYTES" },
        { """{"inputs": [{"name": "user_id", "datatype": "BYTES", "shape": [1, 1], "data": ["\udc00"]}]}""", "input 'user_id': the id of row 0 is not valid" },
        { """{"inputs": [{"name": "context", "datatype": "BYTES", "shape": [1, 2], "data": ["a", "b"]}]}""", "input 'context': datatype BYTES is taken only for the ids of a STRING entity (an entity input of the model's features); this input takes FP32" },
        { """{"inputs": [{"name": "item_id", "datatype": "BYTES", "shape": [1, 1], "data": ["1"]}]}""", "input 'item_id': datatype BYTES is taken only for the ids of a STRING entity (an entity input of the model's features); this input takes INT64" },
        { """{"inputs": [{"name": "item_id", "datatype": "INT64", "shape": [1, 1], "data": [1]}, {"name": "context", "datatype": "FP32", "shape": [1, 2], "data": [0, 0]}]}""", "missing input 'user_id': the ids of entity 'user', one per row, shape [rows, 1] of BYTES" },
        { """{"inputs": [{"name": "user_id", "datatype": "BYTES", "shape": [2, 1], "data": ["a", "b"]}, {"name": "item_id", "datatype": "INT64", "shape": [1, 1], "data": [1]}, {"name": "context", "datatype": "FP32", "shape": [1, 2], "data": [0, 0]}]}""", "input 'item_id': batch size 1 differs from the other entity inputs' 2" },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public async Task Bad_JSON_ids_are_400_naming_the_input(string body, string expected)
    {
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(Encoding.UTF8.GetBytes(body), Wire.Json));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json));
    }

    [Fact]
    public async Task A_JSON_id_of_invalid_UTF8_is_400_naming_the_input()
    {
        byte[] body = [.. Encoding.UTF8.GetBytes("{\"inputs\": [{\"name\": \"user_id\", \"datatype\": \"BYTES\", \"shape\": [1, 1], \"data\": [\"a"), 0xFF, .. Encoding.UTF8.GetBytes("\"]}]}")];
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(body, Wire.Json));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("input 'user_id': the id of row 0 is not valid UTF-8", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json));
    }

    [Fact]
    public async Task Bad_MessagePack_and_binary_ids_are_400_naming_the_input()
    {
        byte[][] invalid = [Encoding.UTF8.GetBytes("ok"), [0x66, 0xC3, 0x28]];
        await ExpectMsgPackAsync(StringIds.MsgPack(Others, invalid, StringIds.MsgPackForm.Bins, [2, 1]), "input 'user_id': the id of row 1 is not valid UTF-8");
        await ExpectMsgPackAsync(StringIds.MsgPack(Others, invalid, StringIds.MsgPackForm.Serialized, [2, 1]), "input 'user_id': the id of row 1 is not valid UTF-8");
        await ExpectMsgPackAsync(StringIds.MsgPack(Others, StringIds.Utf8(["a", "b", "c"]), StringIds.MsgPackForm.Strings, [2, 1]), "input 'user_id': data has 3 elements, its shape has 2");
        await ExpectMsgPackAsync(StringIds.MsgPack(Others, StringIds.Utf8(["a", "b", "c"]), StringIds.MsgPackForm.Serialized, [2, 1]), "input 'user_id': the BYTES data holds more than the 2 elements its shape has");
        await ExpectMsgPackAsync(StringIds.MsgPack(Others, StringIds.Utf8(["a", new string('é', 33)]), StringIds.MsgPackForm.Strings, [2, 1]), "input 'user_id': the id of row 1 is 66 bytes, over the 64");

        // Binary: a length past the data's end, and fewer ids than rows.
        byte[] cut = [.. StringIds.Serialize(["a"]), 9, 0, 0, 0, (byte)'b'];
        var (body, jsonLength) = StringIds.Binary(Others, cut, 2);
        await ExpectBinaryAsync(body, jsonLength, "input 'user_id': element 1 claims 9 bytes, but 1 are left in its BYTES data");
        (body, jsonLength) = StringIds.Binary(Others, StringIds.Serialize(Ids[..5]), Ids.Length);
        await ExpectBinaryAsync(body, jsonLength, "input 'user_id': the BYTES data holds 5 elements, its shape has 6");
    }

    [Fact]
    public async Task Bad_gRPC_ids_are_INVALID_ARGUMENT_naming_the_input()
    {
        using var channel = GrpcWire.Channel(ServerFixture.GrpcAddressOf(fixture.App));
        var client = GrpcWire.Client(channel);
        byte[][] invalid = [Encoding.UTF8.GetBytes("ok"), [0xFF]];
        foreach (bool raw in new[] { true, false })
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(StringIds.Grpc(Others, invalid, raw, [2, 1])));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("input 'user_id': the id of row 1 is not valid UTF-8", e.Status.Detail);

            e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(StringIds.Grpc(Others, StringIds.Utf8(["a", "b", "c"]), raw, [2, 1])));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains(raw ? "input 'user_id': the BYTES data holds more than the 2 elements its shape has" : "input 'user_id': contents.bytes_contents has 3 values, shape [2,1] needs 2", e.Status.Detail);
        }

        // BYTES to a model input that is not an entity input.
        var request = GrpcWire.Request(JoinedGolden.Model, new InferDoc(null, [new TensorDoc("item_id", "INT64", [1, 1], [1])]), raw: false);
        var context = new Inference.ModelInferRequest.Types.InferInputTensor { Name = "context", Datatype = "BYTES", Contents = new Inference.InferTensorContents() };
        context.Shape.AddRange([1, 2]);
        context.Contents.BytesContents.AddRange([Google.Protobuf.ByteString.CopyFromUtf8("a"), Google.Protobuf.ByteString.CopyFromUtf8("b")]);
        request.Inputs.Add(context);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("input 'context': datatype BYTES is taken only for the ids of a STRING entity", refused.Status.Detail);
    }

    private static string Json(string[] ids, string shape = "[2, 1]") =>
        $$"""{"inputs": [{"name": "user_id", "datatype": "BYTES", "shape": {{shape}}, "data": {{JsonSerializer.Serialize(ids)}}}]}""";

    private static HttpContent BinaryBody(byte[] bytes, int jsonLength)
    {
        var content = ServerFixture.Body(bytes, "application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", jsonLength.ToString(CultureInfo.InvariantCulture));
        return content;
    }

    private async Task ExpectMsgPackAsync(byte[] body, string expected)
    {
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(body, Wire.MsgPack));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.MsgPack));
    }

    private async Task ExpectBinaryAsync(byte[] body, int jsonLength, string expected)
    {
        using var response = await fixture.Client.PostAsync(Infer, BinaryBody(body, jsonLength));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json));
    }
}
