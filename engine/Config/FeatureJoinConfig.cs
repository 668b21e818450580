namespace LowLatency.Engine.Config;

/// <summary>
/// This server's <c>features</c> extension of <c>config.json</c>: the model's inputs the server fills
/// per row from the feature store, and the request inputs that carry the rows' entity ids. The
/// engine checks its form; whether the features exist, and fit the inputs, is checked against the
/// feature repository when the model is read (<see cref="Serving.EngineOptions.CheckConfig"/>).
/// </summary>
public sealed record FeatureJoinConfig(
    IReadOnlyList<EntityInputConfig> Entities,
    IReadOnlyList<JoinedInputConfig> Inputs,
    IReadOnlyList<string> Required);
