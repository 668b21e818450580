using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace LowLatency.Features.Definitions;

/// <summary>
/// The hash of a view's row layout stored in every row's header: XxHash32 over each feature's
/// name, type and shape, in order. Renaming, retyping, reshaping, adding or reordering a feature
/// changes it, so rows written before the change read as missing instead of as wrong values; a
/// default or a TTL does not change the layout and leaves it alone. For a stream view, what
/// computes the values (each feature's aggregation or ratio, the window, the lateness) counts too:
/// a count that becomes a sum, or a 1 h window that becomes 24 h, is another row.
/// </summary>
internal static class RowFingerprint
{
    public static uint Of(IReadOnlyList<FeatureDefinition> features, string? computation = null)
    {
        var text = new StringBuilder();
        foreach (var f in features)
        {
            text.Append(f.Name).Append(':').Append(f.DataType.Name()).Append(':');
            foreach (int d in f.Shape)
            {
                text.Append(d.ToString(CultureInfo.InvariantCulture)).Append(',');
            }

            if (f.Aggregation is { } a)
            {
                text.Append('=').Append(a.Function).Append('(').Append(a.Field).Append(')');
                if (a.Where is { } w)
                {
                    text.Append('?').Append(w.Field).Append("==").Append(w.EqualsValue);
                }
            }
            else if (f.Derived is { } r)
            {
                text.Append('=').Append(r.Numerator).Append('/').Append(r.Denominator);
            }

            text.Append(';');
        }

        if (computation is not null)
        {
            text.Append('|').Append(computation);
        }

        return XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
