namespace LowLatency.Host.Protocol;

/// <summary>
/// Which outputs a JSON request asked for as binary data: <c>parameters.binary_data_output</c> for all
/// of them, overridden per output by its <c>parameters.binary_data</c>. Per-output choices are kept
/// for the first 64 outputs (a mask each, so the request path allocates nothing); a model with more
/// outputs takes the request-wide choice for the rest.
/// </summary>
internal struct BinaryOutputs
{
    private ulong _chosen;
    private ulong _binary;

    /// <summary>The request-wide choice: <c>parameters.binary_data_output</c>.</summary>
    public bool All { get; set; }

    /// <summary>Records an output's own <c>parameters.binary_data</c>; false when its index is past what is kept.</summary>
    public bool Choose(int output, bool binary)
    {
        if ((uint)output >= 64)
        {
            return false;
        }

        ulong bit = 1UL << output;
        _chosen |= bit;
        _binary = binary ? _binary | bit : _binary & ~bit;
        return true;
    }

    public readonly bool IsBinary(int output) =>
        (uint)output < 64 && (_chosen & (1UL << output)) != 0 ? (_binary & (1UL << output)) != 0 : All;
}
