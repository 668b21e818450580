namespace LowLatency.Tests.Infrastructure;

/// <summary>A decoded inference response.</summary>
public sealed record InferResult(string ModelName, string ModelVersion, string? Id, IReadOnlyList<TensorDoc> Outputs);
