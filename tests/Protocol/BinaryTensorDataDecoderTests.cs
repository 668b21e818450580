using System.Buffers;
using System.Text.Json;
using CsCheck;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Protocol;

/// <summary>
/// The JSON decoder's binary tensor data path on bodies as Kestrel hands them over: split into
/// segments anywhere, the JSON's end and each tensor's boundaries falling mid-segment.
/// </summary>
public sealed class BinaryTensorDataDecoderTests
{
    // Small bodies (1.1–2.3 KB), so that segments of a few bytes stay cheap to build.
    private static readonly string[] Cases = ["ctr-ranker/batch8", "ctr-ranker/batch1", "text-encoder/batch4-padded"];

    [Fact]
    public void Any_split_of_the_body_and_any_choice_of_binary_inputs_lands_each_tensors_exact_bytes()
    {
        var goldens = Cases.Select(c => c.Split('/')).Select(p => GoldenCase.Load(p[0], p[1])).ToArray();
        var configs = goldens.Select(g => ModelConfigReader.Read(Path.Combine(RepoPaths.Models, g.Model, "config.json"))).ToArray();
        Gen.Select(Gen.Int[0, goldens.Length - 1], Gen.Bool.Array[4], Gen.Int[1, 300], Gen.Bool)
            .Sample((which, binaryInput, segment, allBinary) =>
            {
                var golden = goldens[which];
                var doc = golden.Request;
                var json = Wire.BinaryJson(doc, i => binaryInput[i]);
                json["parameters"] = new System.Text.Json.Nodes.JsonObject { ["binary_data_output"] = allBinary };
                byte[] head = JsonSerializer.SerializeToUtf8Bytes(json);
                byte[] body = [.. head, .. Wire.BinaryTail(doc, i => binaryInput[i])];

                var request = InferenceRequest.ForConfig(configs[which]);
                var outputs = JsonRequestDecoder.Decode(Segmented.Of(body, segment), request, head.Length);
                request.Validate();

                Assert.Equal(allBinary, outputs.IsBinary(0));
                for (int i = 0; i < doc.Inputs.Count; i++)
                {
                    int index = configs[which].InputIndex(doc.Inputs[i].Name);
                    Assert.Equal(doc.Inputs[i].Shape, request.InputShape(index).ToArray());
                    Assert.Equal(Wire.Encode(doc.Inputs[i].Datatype, doc.Inputs[i].Values), request.InputSource(index).ToArray());
                }
            }, iter: 300);
    }

    [Fact]
    public void Without_the_header_the_whole_body_is_JSON_and_binary_inputs_are_refused()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        byte[] head = JsonSerializer.SerializeToUtf8Bytes(Wire.BinaryJson(golden.Request, i => i == 1));
        var request = InferenceRequest.ForConfig(ModelConfigReader.Read(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")));

        var e = Assert.Throws<InferenceException>(() => JsonRequestDecoder.Decode(Segmented.Of(head, 16), request));
        Assert.Equal(InferenceStatus.BadRequest, e.Status);
        Assert.Contains("input 'dense' has parameters.binary_data_size, but the request has no Inference-Header-Content-Length header", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(63, true)]
    [InlineData(64, false)]
    public void An_outputs_own_choice_is_kept_for_the_first_64_outputs(int output, bool kept)
    {
        var outputs = new BinaryOutputs { All = true };
        Assert.Equal(kept, outputs.Choose(output, binary: false));
        Assert.Equal(!kept, outputs.IsBinary(output));
        Assert.True(outputs.IsBinary(output + 1), "an output without a choice of its own takes the request's");
    }
}
