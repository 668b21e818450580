namespace LowLatency.Engine.Config;

/// <summary>One output of a fixed fallback answer: the bytes of one row, repeated for every row asked.</summary>
public sealed record FixedOutput(int Index, byte[] Row);
