using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace LowLatency.LoadGen;

internal sealed record Window(int Index, double Throughput, long P50, long P99, long Errors);
