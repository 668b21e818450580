using LowLatency.Engine.Config;
using LowLatency.Features.Definitions;
using LowLatency.Join;

namespace LowLatency.Tests.Join;

/// <summary>
/// An entity input takes the type of its entity's ids, as the feature repository has it: BYTES of up
/// to <c>max_id_bytes</c> for a STRING entity. A <c>max_id_bytes</c> out of range, or on an INT64
/// entity, and a model tensor of strings stop the model's read naming the field.
/// </summary>
public sealed class StringIdConfigTests : IDisposable
{
    private readonly Features.TempFeatureRepository _strings = StringIds.Repository();

    public void Dispose() => _strings.Dispose();

    private static string Config(string userEntity) => $$$"""
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "dense", "data_type": "TYPE_FP32", "dims": [2]}],
         "output": [{"name": "p", "data_type": "TYPE_FP32", "dims": [1]}],
         "features": {"entities": [{{{userEntity}}}, {"input": "item_id", "entity": "item"}],
                      "inputs": [{"name": "dense", "features": ["user_activity:ctr_24h", "item_static:price"]}]}}
        """;

    [Fact]
    public void A_STRING_entity_makes_its_input_BYTES_at_its_max_id_bytes()
    {
        var repository = FeatureRepositoryReader.Read(_strings.Root);
        var plans = new JoinPlans(repository);
        var config = plans.Check(ModelConfigReader.Parse(Config("""{"input": "user_id", "entity": "user", "max_id_bytes": 36}"""), "m/config.json"), "m/config.json");
        var user = config.InputSpec(config.InputIndex("user_id"));
        Assert.Equal(TensorDataType.Bytes, user.DataType);
        Assert.Equal(36, user.MaxElementBytes);
        Assert.Equal(40, user.ElementSize);
        Assert.Equal([1L], user.Dims);
        Assert.Equal(TensorDataType.Int64, config.InputSpec(config.InputIndex("item_id")).DataType);

        var plain = plans.Check(ModelConfigReader.Parse(Config("""{"input": "user_id", "entity": "user"}"""), "m/config.json"), "m/config.json");
        Assert.Equal(EntityInputConfig.DefaultMaxIdBytes, plain.InputSpec(plain.InputIndex("user_id")).MaxElementBytes);
    }

    [Theory]
    [InlineData("0", "field 'features.entities[0].max_id_bytes': 0 is out of range [1, 1024]")]
    [InlineData("1025", "field 'features.entities[0].max_id_bytes': 1025 is out of range [1, 1024]")]
    [InlineData("\"many\"", "field 'features.entities[0].max_id_bytes': expected an integer")]
    public void A_max_id_bytes_out_of_range_stops_the_read_naming_the_field(string value, string expected)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(Config($$"""{"input": "user_id", "entity": "user", "max_id_bytes": {{value}}}"""), "m/config.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_max_id_bytes_on_an_INT64_entity_stops_the_read_naming_the_field()
    {
        var plans = new JoinPlans(FeatureRepositoryReader.Read(Features.TempFeatureRepository.Example));
        var config = ModelConfigReader.Parse(Config("""{"input": "user_id", "entity": "user", "max_id_bytes": 16}"""), "m/config.json");
        var e = Assert.Throws<ModelConfigException>(() => plans.Check(config, "m/config.json"));
        Assert.Contains("field 'features.entities[0].max_id_bytes': entity 'user' has INT64 ids; max_id_bytes bounds STRING ids only", e.Message);
    }

    [Fact]
    public void A_configuration_not_typed_by_the_repository_is_refused_when_linked()
    {
        // Read without the check: user_id is INT64, the repository's user has STRING ids.
        var config = ModelConfigReader.Parse(Config("""{"input": "user_id", "entity": "user"}"""), "m/config.json");
        var e = Assert.Throws<ModelConfigException>(() => JoinPlan.Link(config, FeatureRepositoryReader.Read(_strings.Root), "m/config.json"));
        Assert.Contains("field 'features.entities[0].entity': entity 'user' has STRING ids; input 'user_id' is INT64", e.Message);
    }

    [Theory]
    [InlineData("TYPE_STRING")]
    [InlineData("TYPE_BYTES")]
    public void A_model_tensor_of_strings_is_refused_at_load(string type)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(Tensors(type, "TYPE_FP32"), "m/config.json"));
        Assert.Contains($"field 'input[0].data_type': '{type}' is not supported: libtorch has no string tensors", e.Message);

        e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(Tensors("TYPE_FP32", type), "m/config.json"));
        Assert.Contains($"field 'output[0].data_type': '{type}' is not supported: libtorch has no string tensors", e.Message);
    }

    private static string Tensors(string input, string output) => $$"""
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "text", "data_type": "{{input}}", "dims": [1]}],
         "output": [{"name": "p", "data_type": "{{output}}", "dims": [1]}]}
        """;
}
