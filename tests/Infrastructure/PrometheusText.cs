using System.Globalization;
using System.Text.RegularExpressions;

namespace LowLatency.Tests.Infrastructure;

/// <summary>Reads series out of a /metrics scrape (Prometheus text format).</summary>
public static partial class PrometheusText
{
    /// <summary>
    /// The value of the series <paramref name="name"/> for <paramref name="model"/> (and its version 1
    /// unless <paramref name="version"/> is false), optionally with one more label; 0 when absent.
    /// </summary>
    public static double Value(string text, string name, string model, string? label, bool version = true)
    {
        foreach (Match m in Series().Matches(text))
        {
            string labels = m.Groups["labels"].Value;
            if (m.Groups["name"].Value == name && labels.Contains($"model=\"{model}\"", StringComparison.Ordinal)
                && (!version || labels.Contains("version=\"1\"", StringComparison.Ordinal)) && (label is null || labels.Contains(label, StringComparison.Ordinal)))
            {
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>[0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex Series();
}
