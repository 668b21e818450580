using System.Text.Json;
using Grpc.Core;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// Feature-joined inference through the server's faces: entity ids in (JSON, MessagePack, binary
/// tensors, gRPC), PyTorch's answer over the joined tensors out, the statuses of rows not present in
/// the answer's parameters, the join's time in Server-Timing.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class JoinedServerTests(JoinedServerFixture fixture) : IClassFixture<JoinedServerFixture>
{
    private const string Infer = "/v2/models/candidate-ranker/infer";

    [Fact]
    public async Task JSON_answers_the_golden_with_the_statuses_of_missing_rows_and_the_joins_time()
    {
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(fixture.Golden.Request.ToJson(), "application/json"));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, System.Text.Encoding.UTF8.GetString(body));
        Wire.AssertClose(fixture.Golden.Expected[0], Wire.ParseJson(body).Outputs[0]);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(fixture.Golden.ExpectedStatuses, doc.RootElement.GetProperty("parameters").GetProperty("feature_statuses").GetString());
        Assert.Contains("features;dur=", string.Join(",", response.Headers.GetValues("Server-Timing")));
    }

    [Fact]
    public async Task MessagePack_and_binary_tensors_answer_the_same()
    {
        using var msgpack = await fixture.Client.PostAsync(Infer, ServerFixture.Body(fixture.Golden.Request.ToMsgPack(), "application/msgpack"));
        byte[] body = await msgpack.Content.ReadAsByteArrayAsync();
        Assert.True(msgpack.IsSuccessStatusCode);
        Wire.AssertClose(fixture.Golden.Expected[0], Wire.ParseMsgPack(body).Outputs[0]);
        var map = (Dictionary<object, object>)MessagePack.MessagePackSerializer.Deserialize<object>(body)!;
        Assert.Equal(fixture.Golden.ExpectedStatuses, ((Dictionary<object, object>)map["parameters"])["feature_statuses"]);

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(Wire.BinaryJson(fixture.Golden.Request, _ => true));
        var content = ServerFixture.Body([.. json, .. Wire.BinaryTail(fixture.Golden.Request, _ => true)], "application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var binary = await fixture.Client.PostAsync(Infer, content);
        Assert.True(binary.IsSuccessStatusCode, await binary.Content.ReadAsStringAsync());
        Wire.AssertClose(fixture.Golden.Expected[0], Wire.ParseJson(await binary.Content.ReadAsByteArrayAsync()).Outputs[0]);
    }

    [Fact]
    public async Task GRPC_answers_the_golden_with_the_statuses_as_a_parameter()
    {
        using var channel = GrpcWire.Channel(ServerFixture.GrpcAddressOf(fixture.App));
        var client = GrpcWire.Client(channel);
        foreach (bool raw in new[] { true, false })
        {
            var response = await client.ModelInferAsync(GrpcWire.Request(JoinedGolden.Model, fixture.Golden.Request, raw));
            Wire.AssertClose(fixture.Golden.Expected[0], GrpcWire.Result(response).Outputs[0]);
            Assert.Equal(fixture.Golden.ExpectedStatuses, response.Parameters["feature_statuses"].StringParam);
        }

        var metadata = await client.ModelMetadataAsync(new Inference.ModelMetadataRequest { Name = JoinedGolden.Model });
        Assert.Equal(["context", "user_id", "item_id"], metadata.Inputs.Select(t => t.Name));
    }

    [Fact]
    public async Task GRPC_stream_answers_carry_the_statuses_as_ModelInfer_does()
    {
        using var channel = GrpcWire.Channel(ServerFixture.GrpcAddressOf(fixture.App));
        using var call = GrpcWire.Client(channel).ModelStreamInfer();
        foreach (bool raw in new[] { true, false })
        {
            await call.RequestStream.WriteAsync(GrpcWire.Request(JoinedGolden.Model, fixture.Golden.Request with { Id = raw ? "raw" : "typed" }, raw));
        }

        await call.RequestStream.CompleteAsync();
        int answered = 0;
        await foreach (var answer in call.ResponseStream.ReadAllAsync())
        {
            Assert.True(string.IsNullOrEmpty(answer.ErrorMessage), answer.ErrorMessage);
            Wire.AssertClose(fixture.Golden.Expected[0], GrpcWire.Result(answer.InferResponse).Outputs[0]);
            Assert.Equal(fixture.Golden.ExpectedStatuses, answer.InferResponse.Parameters["feature_statuses"].StringParam);
            answered++;
        }

        Assert.Equal(2, answered);
    }

    [Fact]
    public async Task Rows_all_present_answer_without_statuses_and_the_metadata_lists_what_a_client_sends()
    {
        var request = new InferDoc("present", [
            new TensorDoc("user_id", "INT64", [2, 1], [1002, 1002]),
            new TensorDoc("item_id", "INT64", [2, 1], [4, 5]),
            new TensorDoc("context", "FP32", [2, 2], [0.5, -0.5, 0.25, 1])]);
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(request.ToJson(), "application/json"));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode);
        using var doc = JsonDocument.Parse(body);
        Assert.False(doc.RootElement.TryGetProperty("parameters", out _));

        using var metadata = JsonDocument.Parse(await fixture.Client.GetByteArrayAsync("/v2/models/candidate-ranker"));
        Assert.Equal(["context", "user_id", "item_id"], metadata.RootElement.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 16], "data": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}""", "input 'dense' of model 'candidate-ranker' is joined from the feature store: send the entity ids instead ('user_id', 'item_id')")]
    [InlineData("""{"inputs": [{"name": "item_id", "datatype": "INT64", "shape": [1, 1], "data": [1]}, {"name": "context", "datatype": "FP32", "shape": [1, 2], "data": [0, 0]}]}""", "missing input 'user_id': the ids of entity 'user', one per row, shape [rows, 1] of INT64")]
    [InlineData("""{"inputs": [{"name": "user_id", "datatype": "FP32", "shape": [1, 1], "data": [1]}]}""", "input 'user_id': datatype FP32 does not match the model's INT64")]
    [InlineData("""{"inputs": [{"name": "user_id", "datatype": "INT64", "shape": [1, 1], "data": [1]}, {"name": "item_id", "datatype": "INT64", "shape": [1, 1], "data": [1]}]}""", "missing input 'context'")]
    public async Task Bad_requests_are_400_naming_what_is_wrong(string body, string expected)
    {
        using var response = await fixture.Client.PostAsync(Infer, ServerFixture.Body(System.Text.Encoding.UTF8.GetBytes(body), "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), "application/json"));
    }
}
