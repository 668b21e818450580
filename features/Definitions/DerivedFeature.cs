namespace LowLatency.Features.Definitions;

/// <summary>
/// A stream feature computed from two others of the same view and window, when the window is
/// written: <see cref="Numerator"/> / <see cref="Denominator"/> (a click-through rate is clicks /
/// impressions). A zero denominator gives the feature's default.
/// </summary>
public sealed record DerivedFeature(string Numerator, string Denominator);
