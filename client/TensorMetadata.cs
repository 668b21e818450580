namespace LowLatency.Client;

/// <summary>One input or output in <see cref="ModelMetadata"/>.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Datatype">The datatype as the protocol names it (<c>FP32</c>, …).</param>
/// <param name="Shape">The shape; -1 marks a variable dimension (the batch, a sequence length).</param>
public sealed record TensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape)
{
    /// <summary>The datatype as a <see cref="TensorDatatype"/>; null for one this client does not know (<c>BYTES</c>).</summary>
    public TensorDatatype? KnownDatatype =>
        TensorDatatypes.TryParse(System.Text.Encoding.UTF8.GetBytes(Datatype), out var type) ? type : null;
}
