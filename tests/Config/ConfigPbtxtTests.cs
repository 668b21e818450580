using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Engine.Config;
using LowLatency.Engine.Repository;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Config;

/// <summary>config.pbtxt, Triton's configuration in protobuf's text format, read as config.json is.</summary>
public sealed class ConfigPbtxtTests
{
    private const string File = "models/m/config.pbtxt";

    private const string Minimal = """
        name: "m"
        platform: "pytorch_libtorch"
        max_batch_size: 8
        input { name: "x" data_type: TYPE_FP32 dims: 4 }
        output { name: "y" data_type: TYPE_FP32 dims: 2 }
        """;

    [Theory]
    [InlineData("ctr-ranker")]
    [InlineData("candidate-ranker")]
    [InlineData("image-classifier")]
    [InlineData("text-encoder")]
    public void Each_embedded_models_config_pbtxt_reads_as_its_config_json(string model)
    {
        string jsonPath = Path.Combine(RepoPaths.Models, model, "config.json");
        string pbtxtPath = Path.Combine(RepoPaths.Root, "tests", "Config", "pbtxt", model, "config.pbtxt");
        var expected = ModelConfigReader.Read(jsonPath);
        var actual = ModelConfigReader.Read(pbtxtPath);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.Document), JsonNode.Parse(actual.Document)), $"{expected.Document}\n{actual.Document}");
        Assert.Equal(Typed(expected), Typed(actual));
        Assert.NotEmpty(actual.Inputs);
    }

    [Fact]
    public void A_single_input_block_reads_as_a_one_element_array()
    {
        var config = ModelConfigReader.ParseTextFormat(Minimal, File);
        var input = Assert.Single(config.Inputs);
        Assert.Equal("x", input.Name);
        Assert.Equal([4L], input.Dims);
        Assert.Equal([2L], Assert.Single(config.Outputs).Dims);
        using var doc = JsonDocument.Parse(config.Document);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("input").ValueKind);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("input")[0].GetProperty("dims").ValueKind);
    }

    [Fact]
    public void Comments_lists_nested_blocks_maps_and_string_escapes_are_read()
    {
        var config = ModelConfigReader.ParseTextFormat("""
            # A configuration as Triton users write them. # not a field
            name: 'm'  # single quotes
            backend: "pyt" "orch"   # adjacent strings are joined
            max_batch_size: 0x10;
            input [
              { name: "x", data_type: TYPE_BF16, dims: [ -1, 3 ] },  # a comment inside a list
              < name: "z" data_type: TYPE_INT64 dims: [] dims: 2 >
            ]
            output: { name: "y\t\"q\"\\\x41\101\u00e9\U0001F600" data_type: TYPE_FP16 dims: [ 2 ] }
            dynamic_batching {
              preferred_batch_size: [ 2, 4 ]
              preferred_batch_size: 8
              max_queue_delay_microseconds: 250
              preserve_ordering: true
              priority_levels: 3
              default_priority_level: 2
              default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 5000 allow_timeout_override: True max_queue_size: 100 }
              priority_queue_policy { key: 1 value { timeout_action: REJECT max_queue_size: 10 } }
              priority_queue_policy [ { key: 3, value: { max_queue_size: 30 } } ]
            }
            instance_group [ { name: "cpu" count: 2 kind: KIND_CPU }, { count: 1 kind: KIND_AUTO gpus: [] } ]
            version_policy { specific { versions: [ 1, 3 ] } }
            parameters { key: "max_variable_dim" value { string_value: "64" } }
            parameters { key: "note" value { string_value: "a, b # not a comment" } }
            health { enabled: false max_error_rate: 0.25 }
            """, File);

        Assert.Equal(16, config.MaxBatchSize);
        Assert.Equal(["x", "z"], config.Inputs.Select(t => t.Name));
        Assert.Equal([-1L, 3L], config.Inputs[0].Dims);
        Assert.Equal([2L], config.Inputs[1].Dims);
        Assert.Equal("y\t\"q\"\\AAé😀", config.Outputs[0].Name);
        var db = config.DynamicBatching!;
        Assert.Equal([2, 4, 8], db.PreferredBatchSize);
        Assert.Equal(250, db.MaxQueueDelayMicroseconds);
        Assert.True(db.PreserveOrdering);
        Assert.Equal(new QueuePolicyConfig(TimeoutAction.Delay, 5000, true, 100), db.DefaultQueuePolicy);
        Assert.Equal(new QueuePolicyConfig(TimeoutAction.Reject, 0, false, 10), db.PriorityQueuePolicy[1]);
        Assert.Equal(30, db.PriorityQueuePolicy[3].MaxQueueSize);
        Assert.Equal(new string?[] { "cpu", null }, config.InstanceGroups.Select(g => g.Name));
        Assert.Equal(3, config.InstanceGroups.Sum(g => g.Count));
        Assert.Equal([1L, 3L], config.VersionPolicy.Select([1, 2, 3, 4]));
        Assert.Equal(64, config.MaxVariableDim);
        Assert.Equal("a, b # not a comment", config.Parameters["note"]);
        Assert.False(config.Health.Enabled);
        Assert.Equal(0.25, config.Health.MaxErrorRate);
    }

    [Theory]
    [InlineData("name: \"m\"\nmax_batch_size 8", 2, 16, "':' or '{' expected after 'max_batch_size', found '8'")]
    [InlineData("name: \"m", 1, 7, "unterminated string")]
    [InlineData("name: \"a\\q\"", 1, 9, "unknown escape '\\q'")]
    [InlineData("name: \"a\\u12\"", 1, 9, "\\u needs 4 hex digits")]
    [InlineData("name: \"\\377\"", 1, 7, "not valid UTF-8")]
    [InlineData("name: \"m\" @", 1, 11, "unexpected character '@'")]
    [InlineData("input {\n  name: \"x\"\n", 3, 1, "'}' expected: the end of the file came first")]
    [InlineData("input { dims: [1 2] }", 1, 18, "',' or ']' expected in the list of 'input[0].dims', found '2'")]
    [InlineData("}", 1, 1, "a field name expected, found '}'")]
    [InlineData("max_batch_size: 99999999999999999999", 1, 17, "out of the range of a 64-bit integer")]
    [InlineData("max_batch_size: 1.5.2", 1, 17, "'1.5.2' is not a number")]
    [InlineData("health { max_error_rate: -inf }", 1, 27, "'-inf' is not a finite number")]
    [InlineData("name: \"m\"\nname: \"n\"", 2, 1, "field 'name' appears twice")]
    [InlineData("parameters { key: \"a\" value { string_value: \"1\" } }\nparameters { key: \"a\" value { string_value: \"2\" } }", 2, 12, "the key 'a' appears twice")]
    [InlineData("parameters { key: \"a\" }", 1, 12, "a map entry needs a key and a value")]
    [InlineData("[ext.field]: 1", 1, 1, "extension and Any fields")]
    public void Syntax_errors_name_the_file_line_and_column(string text, int line, int column, string problem)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.ParseTextFormat(text, File));
        Assert.StartsWith($"{File}: line {line}, column {column}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("max_batch_size: 8", "max_batch_size: 8\ncolour: 1", "colour", "unknown field")]
    [InlineData("dims: 4 }", "dims: 4 reshape { shape: [ 1, 4 ] } }", "input[0].reshape", "unknown field")]
    [InlineData("max_batch_size: 8", "max_batch_size: 8\nmodel_warmup [ { name: \"w\" } ]", "model_warmup", "unknown field")]
    [InlineData("max_batch_size: 8", "max_batch_size: 8.0", "max_batch_size", "expected an integer")]
    [InlineData("max_batch_size: 8", "max_batch_size: [ 8 ]", "max_batch_size", "expected an integer, found an array")]
    [InlineData("data_type: TYPE_FP32 dims: 4", "data_type: TYPE_STRING dims: 4", "input[0].data_type", "TYPE_STRING")]
    [InlineData("dims: 4 }", "dims: 0 }", "input[0].dims[0]", "positive or -1")]
    [InlineData("max_batch_size: 8", "max_batch_size: 8\ninstance_group { kind: KIND_GPU gpus: 0 }", "instance_group[0].kind", "KIND_GPU")]
    [InlineData("max_batch_size: 8", "max_batch_size: 8\nversion_policy { newest {} }", "version_policy.newest", "unknown version policy")]
    public void Invalid_and_unknown_fields_are_refused_naming_file_and_field(string find, string replace, string field, string problem)
    {
        string text = ReplaceFirst(Minimal, find, replace);
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.ParseTextFormat(text, File));
        Assert.StartsWith($"{File}: field '{field}': ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void A_model_directory_with_only_config_pbtxt_is_read_from_it()
    {
        using var repo = new TempRepository();
        repo.AddModel("m", Minimal, configFile: ModelConfigFiles.TextFormat);
        var model = Assert.Single(ModelRepository.Scan(repo.Root));
        Assert.Equal("m", model.Config.Name);
        Assert.Equal(Minimal, model.ConfigText);
        Assert.Equal([1L], model.VersionFiles.Keys);
    }

    [Fact]
    public void A_model_directory_with_both_files_is_refused_naming_both()
    {
        using var repo = new TempRepository();
        repo.AddModel("m", Minimal, configFile: ModelConfigFiles.TextFormat);
        System.IO.File.WriteAllText(Path.Combine(repo.Root, "m", "config.json"), """{"name": "m"}""");
        var e = Assert.Throws<ModelConfigException>(() => ModelRepository.Scan(repo.Root));
        Assert.Equal($"{Path.Combine(repo.Root, "m")}: holds both config.json and config.pbtxt: keep one (the server does not choose between two configurations)", e.Message);
    }

    [Fact]
    public void A_model_directory_with_neither_file_names_both()
    {
        using var repo = new TempRepository();
        Directory.CreateDirectory(Path.Combine(repo.Root, "m", "1"));
        var e = Assert.Throws<ModelConfigException>(() => ModelRepository.Scan(repo.Root));
        Assert.Contains("needs a config.json (or Triton's config.pbtxt)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_repository_error_in_config_pbtxt_names_that_file()
    {
        using var repo = new TempRepository();
        repo.AddModel("a", Minimal, configFile: ModelConfigFiles.TextFormat);
        var e = Assert.Throws<ModelConfigException>(() => ModelRepository.Scan(repo.Root));
        Assert.StartsWith($"{Path.Combine(repo.Root, "a", "config.pbtxt")}: field 'name': ", e.Message, StringComparison.Ordinal);
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        int at = text.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{find}' is not in the configuration");
        return string.Concat(text.AsSpan(0, at), replace, text.AsSpan(at + find.Length));
    }

    // Every typed field of the configuration (the document compared on its own).
    private static string Typed(ModelConfig config) => JsonSerializer.Serialize(config with { Document = string.Empty });
}
