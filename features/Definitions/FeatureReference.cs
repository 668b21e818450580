namespace LowLatency.Features.Definitions;

/// <summary>One feature of one view, as Feast writes it: <c>view:feature</c>.</summary>
public readonly record struct FeatureReference(FeatureView View, FeatureDefinition Feature)
{
    public override string ToString() => View.Name + ":" + Feature.Name;
}
