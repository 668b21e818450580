using LowLatency.Engine.Config;
using LowLatency.Engine.Repository;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Config;

public sealed class ModelConfigReaderTests
{
    private const string File = "models/m/config.json";

    private const string Minimal = """
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [4]}],
         "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [2]}]}
        """;

    [Fact]
    public void Reads_every_embedded_model()
    {
        // The candidate ranker joins features: read here with a check that accepts its join.
        var models = ModelRepository.Scan(RepoPaths.Models, (config, _) => config);
        Assert.Equal(["candidate-ranker", "ctr-ranker", "image-classifier", "text-encoder"], models.Select(m => m.Config.Name));
        Assert.Equal(["context", "user_id", "item_id"], models[0].Config.ClientInputs.Select(t => t.Name));
        models = models.Skip(1).ToList();
        var ctr = models[0].Config;
        Assert.Equal(64, ctr.MaxBatchSize);
        Assert.Equal([26L], ctr.Inputs[0].Dims);
        Assert.Equal(TensorDataType.Int64, ctr.Inputs[0].DataType);
        Assert.Equal([8, 16, 32], ctr.DynamicBatching!.PreferredBatchSize);
        Assert.Equal(0, ctr.DynamicBatching.MaxQueueDelayMicroseconds);
        Assert.Equal(InstanceKind.Cpu, ctr.InstanceGroups[0].Kind);
        Assert.Equal(128, models[2].Config.MaxVariableDim);
        Assert.Equal([1L], models[0].VersionFiles.Keys);
    }

    [Fact]
    public void Reads_the_full_Triton_field_set_including_protobuf_style_strings()
    {
        var config = ModelConfigReader.Parse("""
            {"name": "m", "backend": "pytorch", "max_batch_size": 8,
             "input": [{"name": "x", "data_type": "TYPE_BF16", "dims": [-1, 3]}],
             "output": [{"name": "y", "data_type": "TYPE_FP16", "dims": [2]}],
             "dynamic_batching": {"preferred_batch_size": [2, 4], "max_queue_delay_microseconds": "250", "preserve_ordering": true,
                "priority_levels": 3, "default_priority_level": 2,
                "default_queue_policy": {"timeout_action": "DELAY", "default_timeout_microseconds": "5000", "allow_timeout_override": true, "max_queue_size": 100},
                "priority_queue_policy": {"1": {"timeout_action": "REJECT", "max_queue_size": 10}}},
             "instance_group": [{"name": "cpu", "count": 2, "kind": "KIND_CPU"}, {"count": 1, "kind": "KIND_AUTO", "gpus": []}],
             "version_policy": {"specific": {"versions": [1, "3"]}},
             "parameters": {"max_variable_dim": {"string_value": "64"}}}
            """, File);
        Assert.Equal(ModelConfigReader.Platform, config.Platform);
        Assert.Equal([-1L, 3L], config.Inputs[0].Dims);
        Assert.True(config.Inputs[0].HasVariableDims);
        var db = config.DynamicBatching!;
        Assert.Equal(250, db.MaxQueueDelayMicroseconds);
        Assert.True(db.PreserveOrdering);
        Assert.Equal(3, db.PriorityLevels);
        Assert.Equal(2, db.DefaultPriorityLevel);
        Assert.Equal(new QueuePolicyConfig(TimeoutAction.Delay, 5000, true, 100), db.DefaultQueuePolicy);
        Assert.Equal(new QueuePolicyConfig(TimeoutAction.Reject, 0, false, 10), db.PriorityQueuePolicy[1]);
        Assert.Equal(3, config.InstanceGroups.Sum(g => g.Count));
        Assert.Equal(InstanceKind.Auto, config.InstanceGroups[1].Kind);
        Assert.Equal(VersionPolicyKind.Specific, config.VersionPolicy.Kind);
        Assert.Equal([1L, 3L], config.VersionPolicy.Select([1, 2, 3, 4]));
        Assert.Equal(64, config.MaxVariableDim);
    }

    [Theory]
    [InlineData("""{"latest": {"num_versions": 2}}""", new long[] { 3, 4 })]
    [InlineData("""{"all": {}}""", new long[] { 1, 2, 3, 4 })]
    [InlineData("""{"specific": {"versions": [2, 9]}}""", new long[] { 2 })]
    public void Version_policy_selects_as_Triton(string policy, long[] expected)
    {
        var config = ModelConfigReader.Parse(Minimal.Replace("\"max_batch_size\": 8,", $"\"max_batch_size\": 8, \"version_policy\": {policy},", StringComparison.Ordinal), File);
        Assert.Equal(expected, config.VersionPolicy.Select([4, 1, 3, 2]));
    }

    [Theory]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"colour\": 1", "colour", "unknown field")]
    [InlineData("\"name\": \"m\"", "\"name\": 5", "name", "expected a string")]
    [InlineData("\"name\": \"m\"", "\"name\": \"../m\"", "name", "not a valid model name")]
    [InlineData("\"pytorch_libtorch\"", "\"onnxruntime_onnx\"", "platform", "not supported")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": -1", "max_batch_size", "out of range")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 1.5", "max_batch_size", "expected an integer")]
    [InlineData("\"TYPE_FP32\", \"dims\": [4]", "\"TYPE_STRING\", \"dims\": [4]", "input[0].data_type", "TYPE_STRING")]
    [InlineData("\"dims\": [4]", "\"dims\": [0]", "input[0].dims[0]", "positive or -1")]
    [InlineData("\"dims\": [4]", "\"dims\": [-2]", "input[0].dims[0]", "out of range")]
    [InlineData("\"dims\": [4]", "\"dims\": 4", "input[0].dims", "expected an array")]
    [InlineData("\"dims\": [4]}]", "\"dims\": [4], \"shape\": [1]}]", "input[0].shape", "unknown field")]
    [InlineData("\"name\": \"y\"", "\"name\": \"\"", "output[0].name", "must not be empty")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"dynamic_batching\": {\"preferred_batch_size\": [16]}", "dynamic_batching.preferred_batch_size[0]", "out of range")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"dynamic_batching\": {\"default_queue_policy\": {\"timeout_action\": \"DROP\"}}", "dynamic_batching.default_queue_policy.timeout_action", "REJECT or DELAY")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"dynamic_batching\": {\"priority_levels\": 2, \"default_priority_level\": 3}", "dynamic_batching.default_priority_level", "between 1 and priority_levels")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"dynamic_batching\": {\"priority_levels\": 2, \"default_priority_level\": 1, \"priority_queue_policy\": {\"5\": {}}}", "dynamic_batching.priority_queue_policy.5", "not a priority level")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"instance_group\": [{\"count\": 0}]", "instance_group[0].count", "out of range")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"instance_group\": [{\"kind\": \"KIND_TPU\"}]", "instance_group[0].kind", "KIND_TPU")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"instance_group\": [{\"kind\": \"KIND_CPU\"}, {\"kind\": \"KIND_GPU\"}]", "instance_group[1].kind", "KIND_GPU: this server runs models on the CPU only")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"instance_group\": [{\"kind\": \"KIND_AUTO\", \"gpus\": [0]}]", "instance_group[0].gpus", "CPU only (no CUDA support yet); remove gpus")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"version_policy\": {\"newest\": {}}", "version_policy.newest", "unknown version policy")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"version_policy\": {\"specific\": {\"versions\": []}}", "version_policy.specific.versions", "non-empty")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 8, \"parameters\": {\"max_variable_dim\": {\"string_value\": \"x\"}}", "parameters.max_variable_dim", "not a positive integer")]
    [InlineData("\"max_batch_size\": 8", "\"max_batch_size\": 0, \"dynamic_batching\": {}", "dynamic_batching", "needs max_batch_size > 0")]
    public void Invalid_fields_are_errors_naming_file_and_field(string find, string replace, string field, string problem)
    {
        string json = Minimal.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Minimal, json);
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(json, File));
        Assert.StartsWith($"{File}: field '{field}': ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void The_document_is_kept_as_compact_JSON_without_its_comments()
    {
        var config = ModelConfigReader.Parse("// served as is\n" + Minimal.Replace("\"max_batch_size\": 8", "/* rows */ \"max_batch_size\": 8", StringComparison.Ordinal), File);
        Assert.DoesNotContain("rows", config.Document, StringComparison.Ordinal);
        Assert.DoesNotContain("served", config.Document, StringComparison.Ordinal);
        using var doc = System.Text.Json.JsonDocument.Parse(config.Document);
        Assert.Equal(8, doc.RootElement.GetProperty("max_batch_size").GetInt32());
    }

    [Fact]
    public void Invalid_JSON_names_the_file()
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse("{\"name\": ", File));
        Assert.StartsWith($"{File}: not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repository_errors_name_the_file()
    {
        using var repo = new TempRepository();
        repo.AddModel("a", Minimal.Replace("\"m\"", "\"b\"", StringComparison.Ordinal));
        var e = Assert.Throws<ModelConfigException>(() => ModelRepository.Scan(repo.Root));
        Assert.Contains("must equal the model's directory name 'a'", e.Message, StringComparison.Ordinal);

        using var empty = new TempRepository();
        Directory.CreateDirectory(Path.Combine(empty.Root, "m"));
        System.IO.File.WriteAllText(Path.Combine(empty.Root, "m", "config.json"), Minimal);
        e = Assert.Throws<ModelConfigException>(() => ModelRepository.Scan(empty.Root));
        Assert.Contains("no version directories", e.Message, StringComparison.Ordinal);

        Assert.Throws<ModelConfigException>(() => ModelRepository.Scan(Path.Combine(empty.Root, "missing")));
    }

    [Fact]
    public void A_model_directory_that_links_outside_the_repository_is_the_operators_and_is_served()
    {
        // Mounted volumes (Kubernetes ConfigMaps among them) present their files through links: the
        // repository directory is the operator's, links included (docs/security.md). Names a client
        // gives still resolve only to a plain entry directly under the root.
        using var repo = new TempRepository();
        using var elsewhere = new TempRepository();
        elsewhere.AddModel("m", Minimal);
        Directory.CreateSymbolicLink(Path.Combine(repo.Root, "m"), Path.Combine(elsewhere.Root, "m"));

        var model = Assert.Single(ModelRepository.Scan(repo.Root));
        Assert.Equal("m", model.Config.Name);
        Assert.Equal(Path.Combine(repo.Root, "m"), ModelRepository.ModelDirectory(repo.Root, "m"));
        Assert.Null(ModelRepository.ModelDirectory(repo.Root, "../" + Path.GetFileName(elsewhere.Root)));
    }
}
