namespace LowLatency.Join;

/// <summary>Model input <see cref="Input"/>: <see cref="RowBytes"/> per row, made by <see cref="Copies"/>.</summary>
internal sealed record JoinedInput(int Input, int RowBytes, FieldCopy[] Copies);
