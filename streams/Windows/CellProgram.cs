using LowLatency.Features.Definitions;

namespace LowLatency.Streams.Windows;

/// <summary>One aggregated feature compiled: its function, field slot (-1 for a count), filter slot (-1: every event) and sketch index (distinct counts).</summary>
public readonly record struct CellProgram(FeatureDefinition Feature, AggregationFunction Function, int Field, int Filter, int Sketch);
