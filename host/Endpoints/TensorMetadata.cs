namespace LowLatency.Host.Endpoints;

/// <summary>One input or output in <see cref="ModelMetadata"/>; the shape includes the batch dimension as -1.</summary>
internal sealed record TensorMetadata(string Name, string Datatype, long[] Shape);
