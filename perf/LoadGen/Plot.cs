using System.Globalization;
using System.Text;

namespace LowLatency.LoadGen;

/// <summary>
/// Latency by percentile for several runs in one SVG, HdrHistogram style: the x axis is
/// 1 / (1 − percentile) on a log scale (50 %, 90 %, 99 %, 99.9 %, … equally spaced), the y axis µs on a
/// log scale, so the tails of runs a hundred times apart stay readable side by side.
/// </summary>
internal static class Plot
{
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

    public static int Run(string[] args)
    {
        string? output = null, title = null;
        var inputs = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
            }
            else if (args[i] == "--title" && i + 1 < args.Length)
            {
                title = args[++i];
            }
            else
            {
                inputs.Add(args[i]);
            }
        }

        if (output is null || inputs.Count == 0)
        {
            Console.Error.WriteLine("usage: loadgen plot --out latency.svg [--title text] result1.json result2.json ...");
            return 2;
        }

        var results = inputs.Select(Result.Read).ToList();
        File.WriteAllText(output, Svg(results, title ?? "latency by percentile"));
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    public static string Svg(IReadOnlyList<Result> results, string title)
    {
        const double H = 520, Left = 80, Top = 50, Bottom = 60, PlotWidth = 570;
        const double MaxNines = 5; // up to 99.999 %
        const double LegendX = Left + PlotWidth + 40; // the legend's text starts here, right of the plot

        // The legend's lines, two per run. The canvas is widened to the longest of them, so none runs off
        // its right edge: no text measuring here, so 7 px a character, above what a 12 px sans-serif
        // font takes (6.2–6.5 px a character for these lines in DejaVu Sans).
        var legend = results.Select(r => (Name: $"{r.Label} {r.Mode} {r.Encoding}", Numbers: string.Create(CultureInfo.InvariantCulture, $"{r.Throughput:F0} req/s, p50 {r.P50} µs, p99 {r.P99} µs"))).ToList();
        int longest = legend.Select(l => Math.Max(l.Name.Length, l.Numbers.Length)).DefaultIfEmpty(0).Max();
        double width = Math.Max(900, Math.Ceiling(LegendX + (7 * longest) + 10));
        double plotW = PlotWidth, plotH = H - Top - Bottom;
        double yMin = Math.Max(1, results.SelectMany(r => r.Percentiles).Where(p => p[1] > 0).Select(p => p[1]).DefaultIfEmpty(1).Min());
        double yMax = Math.Max(yMin * 10, results.SelectMany(r => r.Percentiles).Select(p => p[1]).DefaultIfEmpty(10).Max());
        double lyMin = Math.Floor(Math.Log10(yMin)), lyMax = Math.Ceiling(Math.Log10(yMax));
        double X(double percentile) => Left + (Math.Min(MaxNines, Math.Log10(1 / Math.Max(1e-5, 1 - (percentile / 100)))) / MaxNines * plotW);
        double Y(double us) => Top + plotH - ((Math.Log10(Math.Max(us, Math.Pow(10, lyMin))) - lyMin) / (lyMax - lyMin) * plotH);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{H}\" fill=\"white\"/>\n<text x=\"{Left}\" y=\"28\" font-size=\"16\">{Escape(title)}</text>\n");
        for (int nines = 0; nines <= MaxNines; nines++)
        {
            double p = 100 * (1 - Math.Pow(10, -nines));
            double x = X(p);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{Top + plotH}\" stroke=\"#ddd\"/><text x=\"{x:F1}\" y=\"{Top + plotH + 18}\" text-anchor=\"middle\">{p.ToString("0.###", CultureInfo.InvariantCulture)}%</text>\n");
        }

        for (double ly = lyMin; ly <= lyMax; ly++)
        {
            double y = Y(Math.Pow(10, ly));
            string label = Math.Pow(10, ly) >= 1000 ? $"{Math.Pow(10, ly - 3).ToString("0.###", CultureInfo.InvariantCulture)} ms" : $"{Math.Pow(10, ly).ToString("0", CultureInfo.InvariantCulture)} µs";
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Left + plotW}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{label}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (plotW / 2)}\" y=\"{H - 15}\" text-anchor=\"middle\">percentile</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#333\"/>\n");
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            string colour = Colours[i % Colours.Length];
            var points = string.Join(" ", r.Percentiles.Where(p => p[0] <= 99.999).Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p[0]):F1},{Y(p[1]):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{points}\"/>\n");
            double ly = Top + 10 + (i * 34);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left + plotW + 15}\" y1=\"{ly:F1}\" x2=\"{Left + plotW + 35}\" y2=\"{ly:F1}\" stroke=\"{colour}\" stroke-width=\"3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LegendX}\" y=\"{ly + 4:F1}\">{Escape(legend[i].Name)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LegendX}\" y=\"{ly + 18:F1}\" fill=\"#555\">{legend[i].Numbers}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
