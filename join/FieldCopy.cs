namespace LowLatency.Join;

/// <summary>
/// Bytes [<see cref="From"/>, +<see cref="Length"/>) of view <see cref="View"/>'s row, copied to
/// [<see cref="To"/>, +<see cref="Length"/>) of each row of a joined input. Adjacent features that
/// lie in the same order in both are one copy.
/// </summary>
internal readonly record struct FieldCopy(int View, int From, int To, int Length);
