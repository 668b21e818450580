using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace LowLatency.Features.Definitions;

/// <summary>
/// The hash of a view's row layout stored in every row's header: XxHash32 over each feature's
/// name, type and shape, in order. Renaming, retyping, reshaping, adding or reordering a feature
/// changes it, so rows written before the change read as missing instead of as wrong values; a
/// default or a TTL does not change the layout and leaves it alone.
/// </summary>
internal static class RowFingerprint
{
    public static uint Of(IReadOnlyList<FeatureDefinition> features)
    {
        var text = new StringBuilder();
        foreach (var f in features)
        {
            text.Append(f.Name).Append(':').Append(f.DataType.Name()).Append(':');
            foreach (int d in f.Shape)
            {
                text.Append(d.ToString(CultureInfo.InvariantCulture)).Append(',');
            }

            text.Append(';');
        }

        return XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
