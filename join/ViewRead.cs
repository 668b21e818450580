using LowLatency.Features.Definitions;

namespace LowLatency.Join;

/// <summary>
/// One feature view a joined model reads: its rows are fetched by the ids of request input
/// <see cref="EntityInput"/>, one per request row, into the scratch at <see cref="ScratchOffset"/>.
/// <see cref="IdStride"/> is 0 for INT64 ids, and for STRING ids the bytes each id takes in that
/// input's buffer (a BYTES tensor, <see cref="LowLatency.Engine.Requests.BytesElements"/>).
/// </summary>
internal sealed record ViewRead(FeatureView View, int EntityInput, bool Required, int ScratchOffset, int IdStride);
