namespace LowLatency.Tests.Infrastructure;

/// <summary>A tensor as the tests see it: values widened to double (exact for the int64 ids used here).</summary>
public sealed record TensorDoc(string Name, string Datatype, long[] Shape, double[] Values);
