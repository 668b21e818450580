using LowLatency.Engine.Config;

namespace LowLatency.Engine.Execution;

/// <summary>How much room a tensor of the configuration takes.</summary>
internal static class TensorLayout
{
    /// <summary>One sample's bytes, variable dimensions counted at max_variable_dim (64 when unset).</summary>
    public static long SampleBytes(ModelConfig config, TensorConfig spec, out bool fixedShape)
    {
        long sample = spec.DataType.ElementSize();
        fixedShape = true;
        foreach (var d in spec.Dims)
        {
            fixedShape &= d >= 0;
            sample *= d >= 0 ? d : config.MaxVariableDim ?? 64;
        }

        return sample;
    }
}
