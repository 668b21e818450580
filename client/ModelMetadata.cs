namespace LowLatency.Client;

/// <summary>A model's metadata: its served versions, platform and tensors (shapes with the batch dimension as -1).</summary>
/// <param name="Name">The model's name.</param>
/// <param name="Versions">The versions served (all of them, or the one asked for).</param>
/// <param name="Platform">The model's platform (<c>pytorch_libtorch</c>).</param>
/// <param name="Inputs">The inputs the model takes.</param>
/// <param name="Outputs">The outputs it gives.</param>
public sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);
