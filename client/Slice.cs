namespace LowLatency.Client;

/// <summary>Where a string or tensor lies in an <see cref="InferResult"/>'s buffers: the received body, or the side buffer (names that had to be unescaped).</summary>
internal readonly record struct Slice(int Offset, int Length, bool Side = false)
{
    /// <summary>Absent (an answer without an id, say).</summary>
    public static readonly Slice None = new(0, -1);

    public bool IsPresent => Length >= 0;
}
