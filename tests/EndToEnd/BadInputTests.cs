using System.Buffers;
using System.Net;
using System.Text;
using LowLatency.Tests.Infrastructure;
using MessagePack;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// Every kind of bad input gets its status and an error that names what is wrong, in the response
/// encoding; never a 500; the server keeps answering correctly afterwards.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BadInputTests(ServerFixture server)
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    private static InferDoc CtrWith(Func<TensorDoc, TensorDoc> sparse) => Ctr.Request with { Inputs = [sparse(Ctr.Request.Inputs[0]), Ctr.Request.Inputs[1]] };

    public static IEnumerable<object[]> BadDocuments()
    {
        // (case, document, expected substring of the error)
        yield return ["unknown input", CtrWith(t => t with { Name = "sparse_ids" }), "unknown input 'sparse_ids'"];
        yield return ["wrong datatype", CtrWith(t => t with { Datatype = "INT32" }), "datatype INT32 does not match the model's INT64"];
        yield return ["shape disagrees with config", CtrWith(t => t with { Shape = [1, 25], Values = t.Values[..25] }), "does not match the model's [-1,26]"];
        yield return ["wrong rank", CtrWith(t => t with { Shape = [26] }), "has rank 1, the model expects 2"];
        yield return ["negative dim", CtrWith(t => t with { Shape = [-1, 26] }), "negative dimension"];
        yield return ["batch over max_batch_size", CtrWith(t => t with { Shape = [65, 26] }), "outside [1, 64]"];
        yield return ["zero batch", CtrWith(t => t with { Shape = [0, 26], Values = [] }), "outside [1, 64]"];
        yield return ["data shorter than shape", CtrWith(t => t with { Values = t.Values[..20] }), "sparse"];
        yield return ["data longer than shape", CtrWith(t => t with { Values = [.. t.Values, 1, 2] }), "sparse"];
        yield return ["missing input", Ctr.Request with { Inputs = [Ctr.Request.Inputs[1]] }, "missing input 'sparse'"];
        yield return ["duplicate input", Ctr.Request with { Inputs = [Ctr.Request.Inputs[0], Ctr.Request.Inputs[0], Ctr.Request.Inputs[1]] }, "appears more than once"];
        yield return ["unknown output", Ctr.Request with { Outputs = ["logits"] }, "unknown output 'logits'"];
        yield return ["unsupported datatype", CtrWith(t => t with { Datatype = "FP8" }), "unsupported datatype 'FP8'"];
        yield return ["BYTES to a model input", CtrWith(t => t with { Datatype = "BYTES" }), "input 'sparse': datatype BYTES is taken only for the ids of a STRING entity"];
        yield return ["batch sizes disagree", Ctr.Request with { Inputs = [Ctr.Request.Inputs[0] with { Shape = [2, 26], Values = [.. Ctr.Request.Inputs[0].Values, .. Ctr.Request.Inputs[0].Values] }, Ctr.Request.Inputs[1]] }, "batch size 1 differs"];
    }

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task Bad_document_gets_400_naming_the_problem_in_JSON(string @case, InferDoc doc, string expected)
    {
        _ = @case;
        await ExpectAsync("/v2/models/ctr-ranker/infer", doc.ToJson(), Wire.Json, HttpStatusCode.BadRequest, expected);
    }

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task Bad_document_gets_400_naming_the_problem_in_MessagePack(string @case, InferDoc doc, string expected)
    {
        _ = @case;
        await ExpectAsync("/v2/models/ctr-ranker/infer", doc.ToMsgPack(), Wire.MsgPack, HttpStatusCode.BadRequest, expected);
    }

    [Fact]
    public async Task A_MessagePack_bin_longer_than_the_body_is_a_400_not_a_500()
    {
        // Found by FuzzedBodiesTests (kept in tests/Fuzz/corpus): a tensor's bin claims more bytes than follow.
        byte[] body = File.ReadAllBytes(Path.Combine(RepoPaths.Root, "tests", "Fuzz", "corpus", "msgpack", "found-truncated-bin.msgpack"));
        await ExpectAsync("/v2/models/ctr-ranker/infer", body, Wire.MsgPack, HttpStatusCode.BadRequest, "malformed MessagePack body");
    }

    [Theory]
    [InlineData("{", "malformed JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"inputs\": 5}", "'inputs' must be an array")]
    [InlineData("{\"id\": \"x\"}", "missing field 'inputs'")]
    [InlineData("{\"inputs\": [], \"bogus\": 1}", "unknown field 'bogus'")]
    [InlineData("{\"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [1, 13], \"data\": [\"a\"]}]}", "element 0 must be a number")]
    [InlineData("{\"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [1, 13]}]}", "missing 'data'")]
    [InlineData("{\"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\", \"data\": [1]}]}", "missing 'shape'")]
    [InlineData("{\"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [1, 99999999999999999999], \"data\": [1]}]}", "must be an integer")]
    [InlineData("{\"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [4611686018427387904, 4611686018427387904], \"data\": [1]}]}", "dense")]
    [InlineData("{\"inputs\": [{\"name\": \"sparse\", \"datatype\": \"INT64\", \"shape\": [1, 26], \"data\": [1.5]}]}", "must be an integer")]
    [InlineData("{\"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [1, 13], \"data\": [1,2,3,4,5,6,7,8,9,10,11,12,13]}], \"outputs\": [{\"nom\": \"x\"}]}", "unknown field 'nom'")]
    public async Task Malformed_JSON_gets_400(string body, string expected)
    {
        await ExpectAsync("/v2/models/ctr-ranker/infer", Encoding.UTF8.GetBytes(body), Wire.Json, HttpStatusCode.BadRequest, expected);
    }

    public static IEnumerable<object[]> MalformedMsgPack()
    {
        yield return [new byte[] { 0xc1 }, "must be a MessagePack map"];
        yield return [new byte[] { 0x81, 0xa6 }, "malformed MessagePack"];
        yield return [Pack((ref MessagePackWriter w) => w.WriteArrayHeader(0)), "must be a MessagePack map"];
        yield return [Pack((ref MessagePackWriter w) => { w.WriteMapHeader(1); w.Write("inputs"); w.Write(3); }), "'inputs' must be an array"];
        yield return [Pack((ref MessagePackWriter w) => { w.WriteMapHeader(1); w.Write("inputs"); w.WriteArrayHeader(1); w.WriteMapHeader(4); w.Write("name"); w.Write("dense"); w.Write("datatype"); w.Write("FP32"); w.Write("shape"); w.WriteArrayHeader(2); w.Write(1); w.Write(13); w.Write("data"); w.WriteArrayHeader(0); }), "must be a MessagePack bin"];
        yield return [Pack((ref MessagePackWriter w) => { w.WriteMapHeader(1); w.Write("inputs"); w.WriteArrayHeader(1); w.WriteMapHeader(4); w.Write("name"); w.Write("dense"); w.Write("datatype"); w.Write("FP32"); w.Write("shape"); w.WriteArrayHeader(2); w.Write(1); w.Write(ulong.MaxValue); w.Write("data"); w.Write(new byte[52]); }), "overflows"];
        yield return [Pack((ref MessagePackWriter w) => { w.WriteMapHeader(1); w.Write("parameters"); w.WriteMapHeader(1); w.Write("x"); for (int i = 0; i < 100; i++) { w.WriteArrayHeader(1); } w.Write(1); }), "nests deeper"];
        yield return [Pack((ref MessagePackWriter w) => { w.WriteMapHeader(1); w.Write(7); w.Write(1); }), "must be a string"];
        yield return [(byte[])[.. Ctr.Request.ToMsgPack(), 0x01], "unexpected bytes"];
    }

    [Theory]
    [MemberData(nameof(MalformedMsgPack))]
    public async Task Malformed_MessagePack_gets_400(byte[] body, string expected)
    {
        await ExpectAsync("/v2/models/ctr-ranker/infer", body, Wire.MsgPack, HttpStatusCode.BadRequest, expected);
    }

    [Theory]
    [InlineData("/v2/models/no-such-model/infer", HttpStatusCode.NotFound, "unknown model 'no-such-model'")]
    [InlineData("/v2/models/ctr-ranker/versions/7/infer", HttpStatusCode.NotFound, "has no version 7")]
    [InlineData("/v2/models/ctr-ranker/versions/x1/infer", HttpStatusCode.BadRequest, "version 'x1' is not a positive integer")]
    [InlineData("/v2/models/..%2F..%2Fetc/infer", HttpStatusCode.NotFound, "unknown model")]
    public async Task Unknown_model_or_version(string path, HttpStatusCode status, string expected)
    {
        await ExpectAsync(path, Ctr.Request.ToMsgPack(), Wire.MsgPack, status, expected);
    }

    [Fact]
    public async Task Body_over_the_limit_gets_413_with_Content_Length()
    {
        // The fixture's limit is 1 MiB.
        await ExpectAsync("/v2/models/ctr-ranker/infer", new byte[(1 << 20) + 1], Wire.MsgPack, HttpStatusCode.RequestEntityTooLarge, "exceeds the limit of 1048576 bytes");
    }

    [Fact]
    public async Task Body_over_the_limit_gets_413_when_chunked()
    {
        var content = new StreamContent(new MemoryStream(new byte[(1 << 20) + 10]));
        content.Headers.ContentType = new("application/json");
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v2/models/ctr-ranker/infer") { Content = content };
        message.Headers.TransferEncodingChunked = true;
        using var response = await server.Client.SendAsync(message);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("exceeds the limit", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task A_compressed_body_gets_415_naming_its_Content_Encoding(string encoding)
    {
        byte[] body;
        using (var packed = new MemoryStream())
        {
            using (Stream z = encoding == "gzip" ? new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest) : new System.IO.Compression.ZLibStream(packed, System.IO.Compression.CompressionLevel.Fastest))
            {
                z.Write(Ctr.Request.ToJson());
            }

            body = packed.ToArray();
        }

        using var content = ServerFixture.Body(body, Wire.Json);
        content.Headers.ContentEncoding.Add(encoding);
        using var response = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains($"Content-Encoding '{encoding}' is not supported", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);

        // Identity is no encoding at all.
        using var plain = ServerFixture.Body(Ctr.Request.ToJson(), Wire.Json);
        plain.Headers.ContentEncoding.Add("identity");
        using var ok = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", plain);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Unsupported_content_type_gets_415()
    {
        await ExpectAsync("/v2/models/ctr-ranker/infer", Ctr.Request.ToJson(), "text/plain", HttpStatusCode.UnsupportedMediaType, "unsupported Content-Type 'text/plain'", Wire.Json);
    }

    [Theory]
    [InlineData("application/json; charset=latin1", "latin1")]
    [InlineData("application/json; charset=\"UTF-16\"", "UTF-16")]
    [InlineData("application/msgpack;charset=iso-8859-1", "iso-8859-1")]
    public async Task A_charset_other_than_UTF_8_gets_415_naming_it(string contentType, string charset)
    {
        bool msgpack = contentType.Contains("msgpack", StringComparison.Ordinal);
        var content = new ByteArrayContent(msgpack ? Ctr.Request.ToMsgPack() : Ctr.Request.ToJson());
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        using var response = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", content);
        string type = msgpack ? Wire.MsgPack : Wire.Json;
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
        Assert.Contains($"charset '{charset}' is not supported: send the body in UTF-8", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), type), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=\"UTF-8\"")]
    [InlineData("application/json;CHARSET=utf8")]
    public async Task A_UTF_8_charset_is_accepted(string contentType)
    {
        var content = new ByteArrayContent(Ctr.Request.ToJson());
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        using var response = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Text_encoder_rejects_a_sequence_over_its_limit_and_an_all_padding_mask()
    {
        var ids = new TensorDoc("input_ids", "INT64", [1, 129], Enumerable.Repeat(3.0, 129).ToArray());
        var doc = new InferDoc(null, [ids, ids with { Name = "attention_mask" }]);
        await ExpectAsync("/v2/models/text-encoder/infer", doc.ToMsgPack(), Wire.MsgPack, HttpStatusCode.BadRequest, "larger than the model's limit 128");

        var masked = new InferDoc(null, [new TensorDoc("input_ids", "INT64", [1, 4], [1, 2, 3, 4]), new TensorDoc("attention_mask", "INT64", [1, 4], [0, 0, 0, 0])]);
        await ExpectAsync("/v2/models/text-encoder/infer", masked.ToJson(), Wire.Json, HttpStatusCode.BadRequest, "model 'text-encoder' rejected the input");

        var mismatched = new InferDoc(null, [new TensorDoc("input_ids", "INT64", [1, 4], [1, 2, 3, 4]), new TensorDoc("attention_mask", "INT64", [1, 3], [1, 1, 1])]);
        await ExpectAsync("/v2/models/text-encoder/infer", mismatched.ToJson(), Wire.Json, HttpStatusCode.BadRequest, "must have the same shape");
    }

    /// <summary>Bad requests interleaved with good ones: every good one still gets exactly its answer.</summary>
    [Fact]
    public async Task Bad_requests_do_not_disturb_requests_in_flight()
    {
        var good = GoldenCase.Load("text-encoder", "single-len40");
        var bad = new InferDoc("bad", [new TensorDoc("input_ids", "INT64", [1, 4], [1, 2, 3, 4]), new TensorDoc("attention_mask", "INT64", [1, 4], [0, 0, 0, 0])]);
        var tasks = new List<Task<HttpResponseMessage>>();
        for (int i = 0; i < 40; i++)
        {
            var doc = i % 2 == 0 ? good.Request : bad;
            tasks.Add(server.Client.PostAsync("/v2/models/text-encoder/infer", ServerFixture.Body(doc.ToMsgPack(), Wire.MsgPack)));
            if (i % 5 == 0)
            {
                tasks.Add(server.Client.PostAsync("/v2/models/text-encoder/infer", ServerFixture.Body([0xc1, 0x00], Wire.MsgPack)));
            }
        }

        foreach (var response in await Task.WhenAll(tasks))
        {
            using (response)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var result = Wire.ParseMsgPack(bytes);
                    Assert.Equal(good.Request.Id, result.Id);
                    Wire.AssertClose(good.Expected[0], result.Outputs[0]);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                }
            }
        }

        Assert.Equal(20, tasks.Count(t => t.Result.StatusCode == HttpStatusCode.OK));
    }

    private async Task ExpectAsync(string path, byte[] body, string contentType, HttpStatusCode status, string expected, string? responseType = null)
    {
        using var response = await server.Client.PostAsync(path, ServerFixture.Body(body, contentType));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        string type = responseType ?? contentType;
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(expected, Wire.ErrorOf(bytes, type), StringComparison.Ordinal);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);

        // And the server still answers a valid request correctly.
        var result = await GoldenTests.InferAsync(server.Client, "ctr-ranker", Ctr.Request, Wire.MsgPack);
        Wire.AssertClose(Ctr.Expected[0], result.Outputs[0]);
    }

    private delegate void Writer(ref MessagePackWriter w);

    private static byte[] Pack(Writer write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        write(ref w);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
