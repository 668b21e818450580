using System.Buffers;
using System.Text;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Protocol;

/// <summary>
/// The JSON decoder on its own: valid requests land each element's exact bytes in the request,
/// with its id, parameters and outputs; each thing wrong is refused as a 400 with a message that
/// names it.
/// </summary>
public sealed class JsonRequestDecoderTests
{
    private static readonly ModelConfig CtrRanker = ModelConfigReader.Read(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json"));

    // No batch dimension, one input per datatype the protocol has, two outputs.
    private static readonly ModelConfig Types = ModelConfigReader.Parse(
        """
        {
          "name": "types", "platform": "pytorch_libtorch", "max_batch_size": 0,
          "input": [
            { "name": "b", "data_type": "TYPE_BOOL", "dims": [3] },
            { "name": "u8", "data_type": "TYPE_UINT8", "dims": [2] },
            { "name": "i8", "data_type": "TYPE_INT8", "dims": [2] },
            { "name": "i16", "data_type": "TYPE_INT16", "dims": [2] },
            { "name": "i32", "data_type": "TYPE_INT32", "dims": [2] },
            { "name": "i64", "data_type": "TYPE_INT64", "dims": [2] },
            { "name": "h", "data_type": "TYPE_FP16", "dims": [3] },
            { "name": "bf", "data_type": "TYPE_BF16", "dims": [3] },
            { "name": "f", "data_type": "TYPE_FP32", "dims": [2, 2] },
            { "name": "d", "data_type": "TYPE_FP64", "dims": [2] }
          ],
          "output": [
            { "name": "y", "data_type": "TYPE_FP32", "dims": [1] },
            { "name": "z", "data_type": "TYPE_INT64", "dims": [1] }
          ]
        }
        """,
        "types.json");

    private const string TypesInputs =
        """
        [
          { "name": "b", "datatype": "BOOL", "shape": [3], "data": [true, false, true] },
          { "name": "u8", "datatype": "UINT8", "shape": [2], "data": [0, 255] },
          { "name": "i8", "datatype": "INT8", "shape": [2], "data": [-128, 127] },
          { "name": "i16", "datatype": "INT16", "shape": [2], "data": [-32768, 32767] },
          { "name": "i32", "datatype": "INT32", "shape": [2], "data": [-2147483648, 2147483647] },
          { "name": "i64", "datatype": "INT64", "shape": [2], "data": [-9223372036854775808, 9223372036854775807] },
          { "name": "h", "datatype": "FP16", "shape": [3], "data": [1.5, -2, 65504] },
          { "name": "bf", "datatype": "BF16", "shape": [3], "data": [1.5, 1.00390625, 1.01171875] },
          { "name": "f", "datatype": "FP32", "shape": [2, 2], "data": [[0.25, -1], [3.5, 1e-3]] },
          { "name": "d", "datatype": "FP64", "shape": [2], "data": [0.1, -1e300] }
        ]
        """;

    [Theory]
    [InlineData("batch1", 1)]
    [InlineData("batch1", 7)]
    [InlineData("batch8", 1024)]
    public void A_golden_request_lands_each_inputs_exact_bytes_and_its_id(string @case, int segmentBytes)
    {
        var golden = GoldenCase.Load("ctr-ranker", @case);
        var request = InferenceRequest.ForConfig(CtrRanker);

        var outputs = JsonRequestDecoder.Decode(Segmented.Of(golden.Request.ToJson(), segmentBytes), request);
        request.Validate();

        Assert.Equal(@case, request.Id);
        Assert.False(outputs.IsBinary(0));
        foreach (var input in golden.Request.Inputs)
        {
            int index = CtrRanker.InputIndex(input.Name);
            Assert.Equal(input.Shape, request.InputShape(index).ToArray());
            Assert.Equal(Wire.Encode(input.Datatype, input.Values), request.InputSource(index).ToArray());
        }

        Assert.Equal(golden.Request.Inputs[0].Shape[0], request.BatchSize);
        Assert.True(request.OutputRequested(0), "without 'outputs' every output is returned");
    }

    [Fact]
    public void Every_datatype_is_written_little_endian_with_bf16_rounded_to_nearest_even()
    {
        var request = Decode(Types, $$"""{"inputs": {{TypesInputs}}}""");

        Assert.Equal(new byte[] { 1, 0, 1 }, Input(request, "b"));
        Assert.Equal(new byte[] { 0, 255 }, Input(request, "u8"));
        Assert.Equal(new byte[] { 0x80, 0x7F }, Input(request, "i8"));
        Assert.Equal(new byte[] { 0x00, 0x80, 0xFF, 0x7F }, Input(request, "i16"));
        Assert.Equal(new byte[] { 0, 0, 0, 0x80, 0xFF, 0xFF, 0xFF, 0x7F }, Input(request, "i32"));
        Assert.Equal(Bytes<long>(long.MinValue, long.MaxValue), Input(request, "i64"));
        // FP16 1.5, -2 and its largest finite value.
        Assert.Equal(Bytes<ushort>(0x3E00, 0xC000, 0x7BFF), Input(request, "h"));
        // 1 + 2^-8 lies halfway between bf16's 1 (0x3F80) and its successor: ties go to the even one;
        // 1 + 3 * 2^-8 lies halfway between 0x3F81 and 0x3F82.
        Assert.Equal(Bytes<ushort>(0x3FC0, 0x3F80, 0x3F82), Input(request, "bf"));
        Assert.Equal(Bytes(0.25f, -1f, 3.5f, 1e-3f), Input(request, "f"));
        Assert.Equal(Bytes(0.1, -1e300), Input(request, "d"));
        Assert.Equal(new long[] { 2, 2 }, request.InputShape(Types.InputIndex("f")).ToArray());
    }

    [Fact]
    public void Nested_and_flat_data_give_the_same_bytes_and_data_may_come_before_the_shape()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        var dense = golden.Request.Inputs.Single(i => i.Name == "dense");
        var sparse = golden.Request.Inputs.Single(i => i.Name == "sparse");
        string rows = "[" + string.Join(",", dense.Values.Chunk(13).Select(r => "[" + string.Join(",", r.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]")) + "]";
        string sparseData = "[" + string.Join(",", sparse.Values.Select(v => ((long)v).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

        var request = Decode(CtrRanker, $$"""
            {"inputs": [
              {"data": {{rows}}, "name": "dense", "datatype": "FP32", "shape": [8, 13]},
              {"name": "sparse", "shape": [8, 26], "data": {{sparseData}}, "datatype": "INT64"}
            ]}
            """);

        Assert.Equal(Wire.Encode("FP32", dense.Values), Input(request, "dense"));
        Assert.Equal(Wire.Encode("INT64", sparse.Values), Input(request, "sparse"));
        Assert.Equal(8, request.BatchSize);
    }

    [Fact]
    public void Parameters_set_the_requests_id_priority_timeout_and_qos_and_others_are_ignored()
    {
        var request = Decode(CtrRanker, $$"""
            {"id": "r-\u00e9", "parameters": {"priority": 2, "timeout": 1500, "qos": "throughput", "sequence_id": {"a": [1]}, "binary_data_output": false},
             "inputs": {{CtrInputs(1)}}}
            """);

        Assert.Equal("r-é", request.Id);
        Assert.Equal(2, request.Priority);
        Assert.Equal(1500, request.TimeoutMicroseconds);
        Assert.Equal(QosClass.Throughput, request.Qos);
    }

    [Theory]
    [InlineData("realtime", QosClass.Realtime)]
    [InlineData("balanced", QosClass.Balanced)]
    [InlineData("bal\\u0061nced", QosClass.Balanced)]
    public void Qos_names_a_class(string qos, QosClass expected) =>
        Assert.Equal(expected, Decode(CtrRanker, $$"""{"parameters": {"qos": "{{qos}}"}, "inputs": {{CtrInputs(1)}}}""").Qos);

    [Fact]
    public void Outputs_select_what_is_returned_and_which_as_binary_data()
    {
        var request = InferenceRequest.ForConfig(Types);
        var outputs = JsonRequestDecoder.Decode(
            Body($$$"""{"outputs": [{"name": "z", "parameters": {"binary_data": true, "other": 1}}], "inputs": {{{TypesInputs}}}}"""), request);
        request.Validate();

        Assert.False(request.OutputRequested(Types.OutputIndex("y")));
        Assert.True(request.OutputRequested(Types.OutputIndex("z")));
        Assert.True(outputs.IsBinary(Types.OutputIndex("z")));
        Assert.False(outputs.IsBinary(Types.OutputIndex("y")));
    }

    [Fact]
    public void Binary_data_output_asks_for_every_output_as_binary_and_an_outputs_own_choice_wins()
    {
        var request = InferenceRequest.ForConfig(Types);
        var outputs = JsonRequestDecoder.Decode(
            Body($$$"""{"parameters": {"binary_data_output": true}, "outputs": [{"name": "y", "parameters": {"binary_data": false}}, {"name": "z"}], "inputs": {{{TypesInputs}}}}"""), request);
        request.Validate();

        Assert.False(outputs.IsBinary(Types.OutputIndex("y")));
        Assert.True(outputs.IsBinary(Types.OutputIndex("z")));
        Assert.True(request.OutputRequested(0) && request.OutputRequested(1));
    }

    [Fact]
    public void An_input_with_binary_data_size_borrows_its_bytes_from_after_the_json()
    {
        byte[] dense = Bytes(Enumerable.Range(0, 13).Select(i => i * 0.5f).ToArray());
        byte[] json = Encoding.UTF8.GetBytes($$$"""
            {"inputs": [
              {"name": "sparse", "datatype": "INT64", "shape": [1, 26], "data": [{{{string.Join(",", Enumerable.Range(0, 26))}}}]},
              {"name": "dense", "datatype": "FP32", "shape": [1, 13], "parameters": {"binary_data_size": {{{dense.Length}}}}}
            ]}
            """);
        var request = InferenceRequest.ForConfig(CtrRanker);

        JsonRequestDecoder.Decode(Segmented.Of([.. json, .. dense], 10), request, json.Length);
        request.Validate();

        Assert.Equal(dense, Input(request, "dense"));
        Assert.Equal(Bytes(Enumerable.Range(0, 26).Select(i => (long)i).ToArray()), Input(request, "sparse"));
    }

    [Fact]
    public void Bytes_after_the_json_that_no_input_claims_are_refused()
    {
        byte[] json = Encoding.UTF8.GetBytes($$"""{"inputs": {{CtrInputs(1)}}}""");
        Refused(CtrRanker, [.. json, 1, 2, 3], "the body has 3 bytes after the JSON that no input's parameters.binary_data_size claims", json.Length);
    }

    [Fact]
    public void A_binary_data_size_past_the_body_is_refused()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "parameters": {"binary_data_size": 52}}]}""");
        Refused(CtrRanker, [.. json, .. new byte[51]], "input 'dense': parameters.binary_data_size is 52 but only 51 bytes of binary data are left after the JSON and the inputs before it", json.Length);
    }

    [Fact]
    public void A_binary_data_size_that_disagrees_with_the_shape_is_refused()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "parameters": {"binary_data_size": 48}}]}""");
        Refused(CtrRanker, [.. json, .. new byte[48]], "input 'dense': data has 48 bytes, shape [1,13] of FP32 needs 52", json.Length);
    }

    [Theory]
    [InlineData("[1]", "the body must be a JSON object with 'inputs'")]
    [InlineData("{}", "missing field 'inputs'")]
    [InlineData("""{"inputz": []}""", "unknown field 'inputz'; a request has id, parameters, inputs, outputs")]
    [InlineData("""{"inputs": {}}""", "'inputs' must be an array")]
    [InlineData("""{"inputs": [1]}""", "inputs[0] must be an object")]
    [InlineData("""{"id": 5, "inputs": []}""", "'id' must be a string")]
    [InlineData("""{"inputs": [{"name": "nope", "datatype": "FP32", "shape": [1], "data": [1]}]}""", "unknown input 'nope' for model 'ctr-ranker'; it takes 'sparse', 'dense'")]
    [InlineData("""{"inputs": [{"name": 3}]}""", "'inputs[0].name' must be a string")]
    [InlineData("""{"inputs": [{"name": "dense", "value": [1]}]}""", "unknown field 'value' in inputs[0]; an input has name, datatype, shape, data, parameters")]
    [InlineData("""{"inputs": [{"datatype": "FP32", "shape": [1, 13], "data": []}]}""", "inputs[0]: missing 'name'")]
    [InlineData("""{"inputs": [{"name": "dense", "shape": [1, 13], "data": []}]}""", "input 'dense': missing 'datatype'")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "data": []}]}""", "input 'dense': missing 'shape'")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13]}]}""", "input 'dense': missing 'data' (or parameters.binary_data_size, with its bytes after the JSON)")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP8", "shape": [1, 13], "data": []}]}""", "input 'dense': unknown or unsupported datatype 'FP8'; use BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32 or FP64 (or BYTES for the ids of a STRING entity)")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP64", "shape": [1, 13], "data": []}]}""", "input 'dense': datatype FP64 does not match the model's FP32")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 12], "data": []}]}""", "input 'dense': shape [1,12] does not match the model's [-1,13]")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, "13"], "data": []}]}""", "inputs[0].shape[1] must be an integer")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], "data": []}]}""", "inputs[0].shape has more than 16 dimensions")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "data": [1,2,3,4,5,6,7,8,9,10,11,12]}]}""", "input 'dense': data has 12 elements, shape [1,13] needs 13")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "data": [[1,2,3,4,5,6,7],[8,9,10,11,12,13,14]]}]}""", "input 'dense': data has more than the 13 elements shape [1,13] holds")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "data": 1}]}""", "input 'dense': 'data' must be an array")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "data": ["1"]}]}""", "input 'dense': element 0 must be a number")]
    [InlineData("""{"inputs": [{"name": "sparse", "datatype": "INT64", "shape": [1, 26], "data": [0, 1.5]}]}""", "input 'sparse': element 1 must be an integer for INT64")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "data": [], "parameters": {"binary_data_size": 52}}]}""", "input 'dense' has both 'data' and parameters.binary_data_size; send one")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "parameters": {"binary_data_size": -1}}]}""", "inputs[0].parameters.binary_data_size must be a non-negative integer (bytes)")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "FP32", "shape": [1, 13], "parameters": {"binary_data_size": 52}}]}""", "input 'dense' has parameters.binary_data_size, but the request has no Inference-Header-Content-Length header giving the JSON's length")]
    [InlineData("""{"inputs": [], "outputs": [{"name": "nope"}]}""", "unknown output 'nope' for model 'ctr-ranker'; it gives 'probability'")]
    [InlineData("""{"inputs": [], "outputs": [{"parameters": {}}]}""", "outputs[0]: missing 'name'")]
    [InlineData("""{"inputs": [], "outputs": [{"name": "probability", "shape": [1]}]}""", "unknown field 'shape' in outputs[0]; an output has name, parameters")]
    [InlineData("""{"inputs": [], "outputs": [{"name": "probability", "parameters": {"binary_data": 1}}]}""", "outputs[0].parameters.binary_data must be true or false")]
    [InlineData("""{"inputs": [], "parameters": []}""", "'parameters' must be an object")]
    [InlineData("""{"inputs": [], "parameters": {"priority": -1}}""", "parameters.priority must be a non-negative integer")]
    [InlineData("""{"inputs": [], "parameters": {"timeout": "1"}}""", "parameters.timeout must be a non-negative integer (microseconds)")]
    [InlineData("""{"inputs": [], "parameters": {"qos": "fast"}}""", "parameters.qos 'fast' is not realtime, balanced or throughput")]
    [InlineData("""{"inputs": [], "parameters": {"qos": 1}}""", "parameters.qos must be a string: realtime, balanced or throughput")]
    [InlineData("""{"inputs": [], "parameters": {"binary_data_output": "yes"}}""", "parameters.binary_data_output must be true or false")]
    public void Each_mistake_is_refused_naming_it(string json, string message) => Refused(CtrRanker, Encoding.UTF8.GetBytes(json), message);

    [Theory]
    [InlineData("b", "BOOL", "[1, 0, 1]", "input 'b': element 0 must be true or false")]
    [InlineData("u8", "UINT8", "[0, 256]", "input 'u8': element 1 (256) is out of range for UINT8")]
    [InlineData("i8", "INT8", "[-129, 0]", "input 'i8': element 0 (-129) is out of range for INT8")]
    [InlineData("i16", "INT16", "[0, 32768]", "input 'i16': element 1 (32768) is out of range for INT16")]
    [InlineData("i32", "INT32", "[2147483648, 0]", "input 'i32': element 0 (2147483648) is out of range for INT32")]
    [InlineData("i64", "INT64", "[0, 9223372036854775808]", "input 'i64': element 1 must be an integer for INT64")]
    public void An_element_outside_its_datatype_is_refused(string name, string datatype, string data, string message)
    {
        var inputs = $$"""[{"name": "{{name}}", "datatype": "{{datatype}}", "shape": [{{(name == "b" ? 3 : 2)}}], "data": {{data}}}]""";
        Refused(Types, Encoding.UTF8.GetBytes($$"""{"inputs": {{inputs}}}"""), message);
    }

    [Fact]
    public void An_id_of_up_to_256_bytes_is_kept_and_a_longer_one_is_refused_naming_the_cap()
    {
        string at = new('<', 256);
        Assert.Equal(at, Decode(CtrRanker, $$"""{"id": "{{at}}", "inputs": {{CtrInputs(1)}}}""").Id);
        // Counted as UTF-8 once unescaped: 128 'é' are 256 bytes, however they are sent.
        string escaped = string.Concat(Enumerable.Repeat("\\u00e9", 128));
        Assert.Equal(new string('é', 128), Decode(CtrRanker, $$"""{"id": "{{escaped}}", "inputs": {{CtrInputs(1)}}}""").Id);

        const string Refusal = "'id' is longer than 256 bytes, the most this server accepts";
        Refused(CtrRanker, Encoding.UTF8.GetBytes($$"""{"id": "{{at}}<", "inputs": []}"""), Refusal);
        Refused(CtrRanker, Encoding.UTF8.GetBytes($$"""{"id": "{{escaped}}\u00e9", "inputs": []}"""), Refusal);
        Refused(CtrRanker, Encoding.UTF8.GetBytes($$"""{"id": "{{new string('<', 1 << 20)}}", "inputs": []}"""), Refusal);
    }

    [Theory]
    [InlineData("""{"{{T}}": 1, "inputs": []}""", "unknown field '")]
    [InlineData("""{"inputs": [{"name": "dense", "{{T}}": 1}]}""", "unknown field '")]
    [InlineData("""{"inputs": [], "outputs": [{"name": "probability", "{{T}}": 1}]}""", "unknown field '")]
    [InlineData("""{"inputs": [{"name": "{{T}}"}]}""", "unknown input '")]
    [InlineData("""{"inputs": [], "outputs": [{"name": "{{T}}"}]}""", "unknown output '")]
    [InlineData("""{"inputs": [{"name": "dense", "datatype": "{{T}}", "shape": [1, 13], "data": []}]}""", "input 'dense': unknown or unsupported datatype '")]
    [InlineData("""{"inputs": [], "parameters": {"qos": "{{T}}"}}""", "parameters.qos '")]
    public void An_error_quotes_at_most_128_characters_of_what_the_client_sent_marked_as_cut(string template, string start)
    {
        // 100,000 '<' where a name or value goes: the error is about as long as with a short one.
        var request = InferenceRequest.ForConfig(CtrRanker);
        byte[] body = Encoding.UTF8.GetBytes(template.Replace("{{T}}", new string('<', 100_000), StringComparison.Ordinal));
        var e = Assert.Throws<InferenceException>(() => JsonRequestDecoder.Decode(new ReadOnlySequence<byte>(body), request));

        Assert.StartsWith(start + new string('<', 128) + "…' (cut from 100000 bytes)", e.Message, StringComparison.Ordinal);
        Assert.InRange(e.Message.Length, 1, 400);
    }

    [Theory]
    [InlineData("f", "FP32", "[[1e39, 0], [0, 0]]", 4, "input 'f': element 0 is out of range for FP32")]
    [InlineData("f", "FP32", "[[0, 0], [0, -1e400]]", 4, "input 'f': element 3 is out of range for FP32")]
    [InlineData("d", "FP64", "[0, 1e400]", 2, "input 'd': element 1 is out of range for FP64")]
    [InlineData("h", "FP16", "[0, 65520, 0]", 3, "input 'h': element 1 is out of range for FP16")]
    [InlineData("bf", "BF16", "[3.4e38, 0, 0]", 3, "input 'bf': element 0 is out of range for BF16")]
    public void A_finite_literal_outside_a_float_datatypes_range_is_refused_not_made_infinite(string name, string datatype, string data, int count, string message)
    {
        _ = count;
        string shape = name switch { "f" => "[2, 2]", "d" => "[2]", _ => "[3]" };
        var inputs = $$"""[{"name": "{{name}}", "datatype": "{{datatype}}", "shape": {{shape}}, "data": {{data}}}]""";
        Refused(Types, Encoding.UTF8.GetBytes($$"""{"inputs": {{inputs}}}"""), message);
    }

    [Fact]
    public void The_largest_finite_values_and_underflow_to_zero_are_kept()
    {
        var inputs = """
            [{"name": "f", "datatype": "FP32", "shape": [2, 2], "data": [[3.4028235e38, -3.4028235e38], [1e-50, 0]]},
             {"name": "d", "datatype": "FP64", "shape": [2], "data": [1.7976931348623157e308, 1e-400]},
             {"name": "h", "datatype": "FP16", "shape": [3], "data": [65504, 65519, -65504]},
             {"name": "bf", "datatype": "BF16", "shape": [3], "data": [3.38e38, -3.38e38, 0]}]
            """;
        var request = InferenceRequest.ForConfig(Types);
        JsonRequestDecoder.Decode(Body($$"""{"inputs": {{inputs}}}"""), request);

        Assert.Equal(Bytes(float.MaxValue, float.MinValue, 0f, 0f), Input(request, "f"));
        Assert.Equal(Bytes(double.MaxValue, 0.0), Input(request, "d"));
        Assert.Equal(Bytes(Half.MaxValue, Half.MaxValue, Half.MinValue), Input(request, "h"));
    }

    [Theory]
    [InlineData("""{"inputs": [""")]
    [InlineData("""{"inputs": [] """)]
    [InlineData("""{"inputs": []} {}""")]
    [InlineData("""{"inputs": [{"name": "dense",}]}""")]
    [InlineData("not json")]
    public void Malformed_json_is_refused_as_such_by_the_request_decoder(string json)
    {
        var request = InferenceRequest.ForConfig(CtrRanker);
        var e = Assert.Throws<InferenceException>(() => RequestDecoder.Decode(WireFormat.Json, Body(json), request));
        Assert.Equal(InferenceStatus.BadRequest, e.Status);
        Assert.StartsWith("malformed JSON body: ", e.Message, StringComparison.Ordinal);
    }

    private static InferenceRequest Decode(ModelConfig config, string json)
    {
        var request = InferenceRequest.ForConfig(config);
        JsonRequestDecoder.Decode(Body(json), request);
        request.Validate();
        return request;
    }

    private static void Refused(ModelConfig config, byte[] body, string message, long jsonLength = -1)
    {
        var request = InferenceRequest.ForConfig(config);
        var e = Assert.Throws<InferenceException>(() => JsonRequestDecoder.Decode(new ReadOnlySequence<byte>(body), request, jsonLength));
        Assert.Equal(InferenceStatus.BadRequest, e.Status);
        Assert.Equal(message, e.Message);
    }

    private static ReadOnlySequence<byte> Body(string json) => new(Encoding.UTF8.GetBytes(json));

    private static string CtrInputs(int rows) =>
        $$"""
        [{"name": "sparse", "datatype": "INT64", "shape": [{{rows}}, 26], "data": [{{string.Join(",", Enumerable.Repeat(7, 26 * rows))}}]},
         {"name": "dense", "datatype": "FP32", "shape": [{{rows}}, 13], "data": [{{string.Join(",", Enumerable.Repeat(0.5, 13 * rows))}}]}]
        """;

    private static byte[] Input(InferenceRequest request, string name) => request.InputSource(request.Config.InputIndex(name)).ToArray();

    private static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
