namespace LowLatency.Client;

/// <summary>The server's name, version and the protocol extensions it serves.</summary>
/// <param name="Name">The server's name (<c>lowlatency</c>, <c>triton</c>).</param>
/// <param name="Version">Its version.</param>
/// <param name="Extensions">The extensions, under Triton's names (<c>binary_tensor_data</c>, …).</param>
public sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);
