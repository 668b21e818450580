namespace LowLatency.Engine.Config;

/// <summary>
/// The repeated and map fields among those this server reads, by path without indices, as
/// protocol/model_config.proto declares them (and this server's extensions, which config.json
/// gives as arrays and objects). The text format cannot tell a repeated field written once from a
/// single one, so these become arrays (and maps objects) however often they appear; every other
/// field is single, and one that is neither known here nor to the config.json readers is refused
/// by them as unknown.
/// </summary>
internal static class TextFormatFields
{
    private static readonly HashSet<string> Repeated =
    [
        "input", "input.dims", "output", "output.dims",
        "dynamic_batching.preferred_batch_size",
        "instance_group", "instance_group.gpus", "instance_group.cores",
        "version_policy.specific.versions",
        "features.entities", "features.inputs", "features.inputs.features", "features.required",
        "fallback.outputs", "fallback.outputs.data",
    ];

    // map<string, ModelParameter> parameters; map<uint64, ModelQueuePolicy> priority_queue_policy;
    // this server's traffic, version to weight. Written as entries { key: K value: V }.
    private static readonly HashSet<string> Maps = ["parameters", "dynamic_batching.priority_queue_policy", "traffic"];

    public static TextFormatFieldShape ShapeOf(string path) =>
        Repeated.Contains(path) ? TextFormatFieldShape.Repeated
        : Maps.Contains(path) ? TextFormatFieldShape.Map
        : TextFormatFieldShape.Single;
}
