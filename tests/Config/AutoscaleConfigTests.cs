using LowLatency.Engine.Config;

namespace LowLatency.Tests.Config;

/// <summary>config.json's <c>autoscale</c> and <c>instance_group[].cores</c>, read as strictly as the rest.</summary>
public sealed class AutoscaleConfigTests
{
    private const string File = "models/m/config.json";

    private const string Minimal = """
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [4]}],
         "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [2]}]}
        """;

    private static string With(string fields) => Minimal.Replace("\"max_batch_size\": 8", "\"max_batch_size\": 8, " + fields, StringComparison.Ordinal);

    [Fact]
    public void Off_by_default_and_read_with_its_defaults()
    {
        Assert.Null(ModelConfigReader.Parse(Minimal, File).Autoscale);
        var a = ModelConfigReader.Parse(With("\"autoscale\": {\"max_instances\": 3, \"target_queue_delay_microseconds\": 500}"), File).Autoscale!;
        Assert.Equal(new AutoscaleConfig(1, 3, 500, 5, 15, 50, 30), a);
        var b = ModelConfigReader.Parse(With("\"autoscale\": {\"min_instances\": 2, \"max_instances\": 4, \"target_queue_delay_microseconds\": 800, \"window_seconds\": 0.5, \"cooldown_seconds\": 2, \"idle_percent\": 70, \"scale_down_stabilization_seconds\": 8}"), File).Autoscale!;
        Assert.Equal(new AutoscaleConfig(2, 4, 800, 0.5, 2, 70, 8), b);
    }

    [Theory]
    [InlineData("\"autoscale\": {\"max_instances\": 2, \"target_queue_delay_microseconds\": 1, \"window\": 5}", "autoscale.window", "unknown field")]
    [InlineData("\"autoscale\": {\"target_queue_delay_microseconds\": 1}", "autoscale.max_instances", "missing")]
    [InlineData("\"autoscale\": {\"max_instances\": 2}", "autoscale.target_queue_delay_microseconds", "missing")]
    [InlineData("\"autoscale\": {\"min_instances\": 3, \"max_instances\": 2, \"target_queue_delay_microseconds\": 1}", "autoscale.max_instances", "less than min_instances")]
    [InlineData("\"autoscale\": {\"max_instances\": 65, \"target_queue_delay_microseconds\": 1}", "autoscale.max_instances", "out of range")]
    [InlineData("\"autoscale\": {\"max_instances\": 2, \"target_queue_delay_microseconds\": 1, \"window_seconds\": 0}", "autoscale.window_seconds", "expected seconds")]
    [InlineData("\"autoscale\": {\"max_instances\": 2, \"target_queue_delay_microseconds\": 1, \"cooldown_seconds\": \"5\"}", "autoscale.cooldown_seconds", "expected seconds")]
    [InlineData("\"autoscale\": {\"max_instances\": 2, \"target_queue_delay_microseconds\": 1, \"idle_percent\": 100}", "autoscale.idle_percent", "out of range")]
    [InlineData("\"autoscale\": [1]", "autoscale", "expected an object")]
    [InlineData("\"instance_group\": [{\"count\": 1}, {\"count\": 1}], \"autoscale\": {\"max_instances\": 2, \"target_queue_delay_microseconds\": 1}", "autoscale", "one instance group")]
    [InlineData("\"instance_group\": [{\"count\": 1, \"cores\": []}]", "instance_group[0].cores", "must not be empty")]
    [InlineData("\"instance_group\": [{\"count\": 1, \"cores\": [1.5]}]", "instance_group[0].cores[0]", "expected an integer")]
    [InlineData("\"instance_group\": [{\"count\": 1, \"cores\": [4000]}]", "instance_group[0].cores[0]", "may not pin a thread to core 4000")]
    public void Invalid_fields_are_errors_naming_file_and_field(string fields, string field, string problem)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(With(fields), File));
        Assert.StartsWith($"{File}: field '{field}': ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_instance_group_may_name_its_own_cores()
    {
        var config = ModelConfigReader.Parse(With("\"instance_group\": [{\"name\": \"a\", \"count\": 1, \"cores\": [0]}, {\"name\": \"b\", \"count\": 1}]"), File);
        Assert.Equal([0], config.InstanceGroups[0].Cores);
        Assert.Empty(config.InstanceGroups[1].Cores);
    }
}
