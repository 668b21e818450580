using LowLatency.Features.Definitions;

namespace LowLatency.Streams.Windows;

/// <summary>
/// A window's features as numbers and as the view's packed row. A feature with no value (a minimum,
/// mean or last over no event, a ratio over a zero denominator) takes its default; a value an
/// integer type cannot hold exactly is rounded to the nearest, and one out of its range takes the
/// default too.
/// </summary>
public static class WindowValues
{
    /// <summary>The value of aggregated cell <paramref name="c"/>; NaN when it has none.</summary>
    public static double Value(ViewProgram view, WindowState window, int c)
    {
        var cell = window.Cells[c];
        var program = view.Cells[c];
        return program.Function switch
        {
            AggregationFunction.Count => cell.N,
            AggregationFunction.Sum => cell.N == 0 ? 0 : cell.V,
            AggregationFunction.DistinctCount => window.Sketches[program.Sketch].Estimate(),
            AggregationFunction.Mean => cell.N == 0 ? double.NaN : cell.V / cell.N,
            _ => cell.N == 0 ? double.NaN : cell.V,
        };
    }

    /// <summary>Writes the row (<see cref="FeatureView.RowBytes"/> bytes) into <paramref name="row"/>.</summary>
    public static void Write(ViewProgram view, WindowState window, Span<byte> row)
    {
        for (int c = 0; c < view.Cells.Length; c++)
        {
            Put(view.Cells[c].Feature, Value(view, window, c), row);
        }

        foreach (var (feature, numerator, denominator) in view.Ratios)
        {
            double d = Value(view, window, denominator);
            Put(feature, d == 0 || double.IsNaN(d) ? double.NaN : Value(view, window, numerator) / d, row);
        }
    }

    private static void Put(FeatureDefinition feature, double value, Span<byte> row)
    {
        var dst = row.Slice(feature.Offset, feature.ByteSize);
        bool ok = !double.IsNaN(value) && feature.DataType switch
        {
            FeatureDataType.FP16 or FeatureDataType.BF16 or FeatureDataType.FP32 or FeatureDataType.FP64 => FeatureDataTypes.TryWrite(value, feature.DataType, dst),
            _ => Math.Abs(value) < 9.2e18 && FeatureDataTypes.TryWrite((long)Math.Round(value, MidpointRounding.ToEven), feature.DataType, dst),
        };
        if (!ok)
        {
            feature.Default.Span.CopyTo(dst);
        }
    }
}
