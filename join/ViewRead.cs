using LowLatency.Features.Definitions;

namespace LowLatency.Join;

/// <summary>
/// One feature view a joined model reads: its rows are fetched by the ids of request input
/// <see cref="EntityInput"/>, one per request row, into the scratch at <see cref="ScratchOffset"/>.
/// </summary>
internal sealed record ViewRead(FeatureView View, int EntityInput, bool Required, int ScratchOffset);
