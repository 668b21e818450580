using LowLatency.Features.Definitions;
using LowLatency.Streams.Events;

namespace LowLatency.Streams.Windows;

/// <summary>
/// A stream view compiled for its source's <see cref="EventSchema"/>: the window, the lateness, each
/// aggregated feature as a cell of a window, the ratios, and what one window costs against the
/// per-key cap (its object, cells and sketches at their largest, so the cap is a function of the
/// windows held and not of timing).
/// </summary>
public sealed class ViewProgram
{
    public ViewProgram(FeatureView view, int index, EventSchema schema)
    {
        View = view;
        Index = index;
        var stream = view.Stream ?? throw new ArgumentException($"the view \"{view.Name}\" has no stream block", nameof(view));
        Window = stream.Window;
        AllowedLatenessMs = stream.AllowedLatenessMs;
        var cells = new List<CellProgram>();
        int sketches = 0;
        foreach (var f in view.Features)
        {
            if (f.Aggregation is { } a)
            {
                int sketch = a.Function == AggregationFunction.DistinctCount ? sketches++ : -1;
                cells.Add(new CellProgram(f, a.Function, a.Field is null ? -1 : schema.Field(a.Field), a.Where is null ? -1 : schema.Filter(a.Where), sketch));
            }
        }

        Cells = [.. cells];
        Sketches = sketches;
        Ratios = view.Features.Where(f => f.Derived is not null)
            .Select(f => (f, cells.FindIndex(c => c.Feature.Name == f.Derived!.Numerator), cells.FindIndex(c => c.Feature.Name == f.Derived!.Denominator)))
            .ToArray();
        WindowBytes = 96 + (Cells.Length * 40) + (sketches * ((KmvSketch.K * 8) + 48));
    }

    public FeatureView View { get; }

    /// <summary>Its position among the source's views.</summary>
    public int Index { get; }

    public StreamWindow Window { get; }

    public long AllowedLatenessMs { get; }

    public CellProgram[] Cells { get; }

    public int Sketches { get; }

    public (FeatureDefinition Feature, int Numerator, int Denominator)[] Ratios { get; }

    public long WindowBytes { get; }
}
