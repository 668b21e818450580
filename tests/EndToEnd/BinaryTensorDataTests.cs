using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// Triton's binary tensor data extension, as tritonclient and perf_analyzer send it: JSON followed
/// by raw tensors, Inference-Header-Content-Length giving the JSON's length, through Kestrel.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BinaryTensorDataTests(ServerFixture server)
{
    private const string Header = "Inference-Header-Content-Length";
    private const string OctetStream = "application/octet-stream";

    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch8");

    [Theory]
    [MemberData(nameof(GoldenCase.All), MemberType = typeof(GoldenCase))]
    public async Task Golden_case_with_every_tensor_binary_matches_PyTorch(string model, string @case)
    {
        var golden = GoldenCase.Load(model, @case);
        var request = Request(golden.Request, binaryInput: _ => true);
        request["parameters"] = new JsonObject { ["binary_data_output"] = true };
        var (response, bytes) = await SendAsync(model, request, golden.Request, binaryInput: _ => true, OctetStream);

        Assert.Equal(OctetStream, response.Content.Headers.ContentType!.MediaType);
        var (result, binaryOutputs) = Parse(response, bytes);
        Assert.Equal(golden.Expected.Count, binaryOutputs);
        Assert.Equal(golden.Request.Id, result.Id);
        for (int i = 0; i < golden.Expected.Count; i++)
        {
            Wire.AssertClose(golden.Expected[i], result.Outputs[i]);
        }
    }

    [Fact]
    public async Task One_input_binary_and_one_in_JSON_without_a_Content_Type_gets_a_plain_JSON_answer()
    {
        // tritonclient sends no Content-Type; nothing asked for binary outputs.
        bool Binary(int i) => i == 0;
        var (response, bytes) = await SendAsync("ctr-ranker", Request(Ctr.Request, Binary), Ctr.Request, Binary, contentType: null);

        Assert.Equal(Wire.Json, response.Content.Headers.ContentType!.MediaType);
        Assert.False(response.Headers.Contains(Header));
        Wire.AssertClose(Ctr.Expected[0], Wire.ParseJson(bytes).Outputs[0]);
    }

    [Theory]
    [InlineData(null, true, true)]
    [InlineData(false, true, true)]
    [InlineData(true, false, false)]
    [InlineData(true, null, true)]
    public async Task An_outputs_own_binary_data_overrides_the_requests_binary_data_output(bool? all, bool? own, bool expectBinary)
    {
        var request = Request(Ctr.Request, _ => false);
        if (all is { } a)
        {
            request["parameters"] = new JsonObject { ["binary_data_output"] = a };
        }

        var output = new JsonObject { ["name"] = "probability" };
        if (own is { } o)
        {
            output["parameters"] = new JsonObject { ["binary_data"] = o };
        }

        request["outputs"] = new JsonArray(output);
        var (response, bytes) = await SendAsync("ctr-ranker", request, Ctr.Request, _ => false, Wire.Json);

        var (result, binaryOutputs) = Parse(response, bytes);
        Assert.Equal(expectBinary ? 1 : 0, binaryOutputs);
        Assert.Equal(expectBinary ? OctetStream : Wire.Json, response.Content.Headers.ContentType!.MediaType);
        Wire.AssertClose(Ctr.Expected[0], result.Outputs[0]);
    }

    public static IEnumerable<object?[]> BadBodies()
    {
        // (case, header value or null for none, body, expected substring of the error)
        var json = Request(Ctr.Request, _ => true);
        byte[] tensors = [.. Wire.Encode("INT64", Ctr.Request.Inputs[0].Values), .. Wire.Encode("FP32", Ctr.Request.Inputs[1].Values)];
        byte[] header = JsonSerializer.SerializeToUtf8Bytes(json);
        string length = header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

        yield return ["header not a number", "twelve", Concat(header, tensors), $"{Header} must be one non-negative integer"];
        yield return ["header past the body", "100000", Concat(header, tensors), $"{Header} is 100000 but the body has only"];
        yield return ["bytes no input claims", length, Concat(header, tensors, [1, 2, 3]), "the body has 3 bytes after the JSON that no input's parameters.binary_data_size claims"];
        yield return ["binary data but no header", null, Concat(header, tensors), "no Inference-Header-Content-Length header"];
        yield return ["tensors cut short", length, Concat(header, tensors[..^8]), "input 'dense': parameters.binary_data_size is 416 but only 408 bytes"];

        var wrongSize = Request(Ctr.Request, _ => true);
        wrongSize["inputs"]![0]!["parameters"]!["binary_data_size"] = 8 * 25;
        byte[] wrongHeader = JsonSerializer.SerializeToUtf8Bytes(wrongSize);
        yield return ["size disagrees with the shape", wrongHeader.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Concat(wrongHeader, tensors[..(8 * 25)], tensors[(8 * 26 * 8)..]), "input 'sparse': data has 200 bytes, shape [8,26] of INT64 needs 1664"];

        var both = Request(Ctr.Request, _ => true);
        both["inputs"]![0]!["data"] = new JsonArray(1, 2);
        byte[] bothHeader = JsonSerializer.SerializeToUtf8Bytes(both);
        yield return ["data and binary_data_size", bothHeader.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Concat(bothHeader, tensors), "input 'sparse' has both 'data' and parameters.binary_data_size"];

        var negative = Request(Ctr.Request, _ => true);
        negative["inputs"]![1]!["parameters"]!["binary_data_size"] = -4;
        byte[] negativeHeader = JsonSerializer.SerializeToUtf8Bytes(negative);
        yield return ["negative size", negativeHeader.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Concat(negativeHeader, tensors), "inputs[1].parameters.binary_data_size must be a non-negative integer"];

        var notBool = Request(Ctr.Request, _ => false);
        notBool["outputs"] = new JsonArray(new JsonObject { ["name"] = "probability", ["parameters"] = new JsonObject { ["binary_data"] = "yes" } });
        yield return ["binary_data not a bool", null, JsonSerializer.SerializeToUtf8Bytes(notBool), "outputs[0].parameters.binary_data must be true or false"];

        var notBoolAll = Request(Ctr.Request, _ => false);
        notBoolAll["parameters"] = new JsonObject { ["binary_data_output"] = 1 };
        yield return ["binary_data_output not a bool", null, JsonSerializer.SerializeToUtf8Bytes(notBoolAll), "parameters.binary_data_output must be true or false"];
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_binary_body_gets_400_naming_the_problem(string @case, string? header, byte[] body, string expected)
    {
        _ = @case;
        await ExpectBadAsync(body, OctetStream, header, expected);
    }

    [Fact]
    public async Task The_header_on_a_MessagePack_body_is_refused()
    {
        await ExpectBadAsync(Ctr.Request.ToMsgPack(), Wire.MsgPack, "10", $"{Header} belongs to JSON bodies");
    }

    private async Task ExpectBadAsync(byte[] body, string contentType, string? header, string expected)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v2/models/ctr-ranker/infer") { Content = ServerFixture.Body(body, contentType) };
        if (header is not null)
        {
            message.Headers.TryAddWithoutValidation(Header, header);
        }

        using var response = await server.Client.SendAsync(message);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        string type = contentType == Wire.MsgPack ? Wire.MsgPack : Wire.Json;
        Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(expected, Wire.ErrorOf(bytes, type), StringComparison.Ordinal);

        // And the server still answers a valid binary request correctly.
        var (ok, okBytes) = await SendAsync("ctr-ranker", Request(Ctr.Request, _ => true), Ctr.Request, _ => true, OctetStream);
        Wire.AssertClose(Ctr.Expected[0], Wire.ParseJson(okBytes).Outputs[0]);
        ok.Dispose();
    }

    private static JsonObject Request(InferDoc doc, Func<int, bool> binaryInput) => Wire.BinaryJson(doc, binaryInput);

    private async Task<(HttpResponseMessage Response, byte[] Bytes)> SendAsync(string model, JsonObject request, InferDoc doc, Func<int, bool> binaryInput, string? contentType)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(request);
        byte[] tail = Wire.BinaryTail(doc, binaryInput);
        bool anyBinary = tail.Length > 0;
        var content = new ByteArrayContent([.. json, .. tail]);
        if (contentType is not null)
        {
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{model}/infer") { Content = content };
        if (anyBinary)
        {
            message.Headers.TryAddWithoutValidation(Header, json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var response = await server.Client.SendAsync(message);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        return (response, bytes);
    }

    /// <summary>An answer that may carry binary outputs after its JSON; also how many outputs came as binary data.</summary>
    private static (InferResult Result, int BinaryOutputs) Parse(HttpResponseMessage response, byte[] bytes)
    {
        int jsonLength = response.Headers.TryGetValues(Header, out var values) ? int.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture) : bytes.Length;
        using var doc = JsonDocument.Parse(bytes.AsMemory(0, jsonLength));
        var root = doc.RootElement;
        var outputs = new List<TensorDoc>();
        int offset = jsonLength, binary = 0;
        foreach (var o in root.GetProperty("outputs").EnumerateArray())
        {
            if (o.TryGetProperty("parameters", out var p) && p.TryGetProperty("binary_data_size", out var size))
            {
                Assert.False(o.TryGetProperty("data", out _));
                string datatype = o.GetProperty("datatype").GetString()!;
                outputs.Add(new TensorDoc(o.GetProperty("name").GetString()!, datatype, o.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), Wire.Decode(datatype, bytes[offset..(offset + size.GetInt32())])));
                offset += size.GetInt32();
                binary++;
            }
            else
            {
                outputs.Add(Wire.Tensor(o));
            }
        }

        Assert.Equal(bytes.Length, offset);
        return (new InferResult(root.GetProperty("model_name").GetString()!, root.GetProperty("model_version").GetString()!, root.TryGetProperty("id", out var id) ? id.GetString() : null, outputs), binary);
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
