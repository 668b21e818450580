using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>Every golden case of every embedded model, through Kestrel, in both encodings.</summary>
[Collection(ServerCollection.Name)]
public sealed class GoldenTests(ServerFixture server)
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var c in GoldenCase.All())
        {
            yield return [c[0], c[1], Wire.Json];
            yield return [c[0], c[1], Wire.MsgPack];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Golden_case_matches_PyTorch(string model, string @case, string encoding)
    {
        var golden = GoldenCase.Load(model, @case);
        var result = await InferAsync(server.Client, model, golden.Request, encoding);

        Assert.Equal(model, result.ModelName);
        Assert.Equal("1", result.ModelVersion);
        Assert.Equal(golden.Request.Id, result.Id);
        Assert.Equal(golden.Expected.Count, result.Outputs.Count);
        for (int i = 0; i < golden.Expected.Count; i++)
        {
            Wire.AssertClose(golden.Expected[i], result.Outputs[i]);
        }
    }

    [Theory]
    [InlineData(Wire.Json, Wire.MsgPack)]
    [InlineData(Wire.MsgPack, Wire.Json)]
    public async Task Accept_chooses_the_response_encoding(string requestEncoding, string accept)
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        var body = requestEncoding == Wire.Json ? golden.Request.ToJson() : golden.Request.ToMsgPack();
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v2/models/ctr-ranker/infer") { Content = ServerFixture.Body(body, requestEncoding) };
        message.Headers.Accept.ParseAdd(accept);
        using var response = await server.Client.SendAsync(message);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(accept, response.Content.Headers.ContentType!.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var result = accept == Wire.Json ? Wire.ParseJson(bytes) : Wire.ParseMsgPack(bytes);
        Wire.AssertClose(golden.Expected[0], result.Outputs[0]);
    }

    [Fact]
    public async Task Explicit_version_route_serves_the_same_model()
    {
        var golden = GoldenCase.Load("image-classifier", "batch1");
        var result = await InferAsync(server.Client, "image-classifier", golden.Request, Wire.MsgPack, "/v2/models/image-classifier/versions/1/infer");
        Wire.AssertClose(golden.Expected[0], result.Outputs[0]);
    }

    [Fact]
    public async Task X_msgpack_content_type_is_accepted()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var response = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), "application/x-msgpack"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = Wire.ParseMsgPack(await response.Content.ReadAsByteArrayAsync());
        Wire.AssertClose(golden.Expected[0], result.Outputs[0]);
    }

    /// <summary>
    /// Requests of different sequence lengths sent together: whichever of them the server joins into a
    /// batch are zero-padded to the longest, and each must still get its own unpadded answer.
    /// </summary>
    [Theory]
    [InlineData(Wire.Json)]
    [InlineData(Wire.MsgPack)]
    public async Task Text_encoder_requests_of_mixed_lengths_each_get_their_own_answer(string encoding)
    {
        var cases = new[] { "single-len5", "single-len40", "single-len77", "single-len128", "batch1" }.Select(c => GoldenCase.Load("text-encoder", c)).ToList();
        for (int round = 0; round < 5; round++)
        {
            var tasks = cases.Select(c => InferAsync(server.Client, "text-encoder", c.Request, encoding)).ToList();
            var results = await Task.WhenAll(tasks);
            for (int i = 0; i < cases.Count; i++)
            {
                Assert.Equal(cases[i].Request.Id, results[i].Id);
                Wire.AssertClose(cases[i].Expected[0], results[i].Outputs[0]);
            }
        }
    }

    [Fact]
    public async Task Many_concurrent_requests_each_get_their_own_rows()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        var sparse = golden.Request.Inputs[0];
        var dense = golden.Request.Inputs[1];
        // Split the golden batch of 8 into 8 single-row requests, sent 8 times over concurrently.
        var tasks = new List<Task<(int Row, InferResult Result)>>();
        for (int rep = 0; rep < 8; rep++)
        {
            for (int row = 0; row < 8; row++)
            {
                int r = row;
                var doc = new InferDoc($"row{r}", [
                    new TensorDoc("sparse", "INT64", [1, 26], sparse.Values.Skip(r * 26).Take(26).ToArray()),
                    new TensorDoc("dense", "FP32", [1, 13], dense.Values.Skip(r * 13).Take(13).ToArray()),
                ]);
                tasks.Add(InferAsync(server.Client, "ctr-ranker", doc, rep % 2 == 0 ? Wire.MsgPack : Wire.Json).ContinueWith(t => (r, t.Result), TaskScheduler.Default));
            }
        }

        foreach (var (row, result) in await Task.WhenAll(tasks))
        {
            Assert.Equal($"row{row}", result.Id);
            var expected = new TensorDoc("probability", "FP32", [1, 1], [golden.Expected[0].Values[row]]);
            Wire.AssertClose(expected, result.Outputs[0]);
        }
    }

    [Theory]
    [InlineData(3, "")]
    [InlineData(50, "")]
    [InlineData(51, "a")]
    public async Task A_MessagePack_answer_with_a_long_non_ASCII_id_is_sized_exactly(int pairs, string tail)
    {
        // fixstr (15 bytes), str8 (250) and str16 (256, the longest id accepted) headers, and UTF-8
        // of two and three bytes a character. An id long enough for str32 is refused.
        string id = string.Concat(Enumerable.Repeat("é€", pairs)) + tail;
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        var result = await InferAsync(server.Client, "ctr-ranker", golden.Request with { Id = id }, Wire.MsgPack);
        Assert.Equal(id, result.Id);
        Wire.AssertClose(golden.Expected[0], result.Outputs[0]);
    }

    [Fact]
    public async Task Outputs_list_selects_outputs()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        var doc = golden.Request with { Outputs = ["probability"] };
        var result = await InferAsync(server.Client, "ctr-ranker", doc, Wire.Json);
        Assert.Single(result.Outputs);
        Wire.AssertClose(golden.Expected[0], result.Outputs[0]);
    }

    public static async Task<InferResult> InferAsync(HttpClient client, string model, InferDoc doc, string encoding, string? path = null)
    {
        var body = encoding == Wire.Json ? doc.ToJson() : doc.ToMsgPack();
        using var response = await client.PostAsync(path ?? $"/v2/models/{model}/infer", ServerFixture.Body(body, encoding));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}");
        Assert.Equal(encoding, response.Content.Headers.ContentType!.MediaType);
        // Every answer is sent with a Content-Length, not chunked.
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);

        return encoding == Wire.Json ? Wire.ParseJson(bytes) : Wire.ParseMsgPack(bytes);
    }
}
