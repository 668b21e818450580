using System.Text.Json.Nodes;

namespace LowLatency.Engine.Config;

/// <summary>
/// A configuration with one instance group's count changed at run time: the parsed groups and the
/// document <c>GET .../config</c> serves say the same count, so what a client reads is what serves.
/// </summary>
public static class InstanceCounts
{
    /// <summary>The most instances one group may have, in config.json and at run time alike.</summary>
    public const int Max = 64;

    public static ModelConfig With(ModelConfig config, int group, int count)
    {
        var groups = new List<InstanceGroupConfig>(config.InstanceGroups);
        groups[group] = groups[group] with { Count = count };
        var doc = JsonNode.Parse(config.Document)?.AsObject() ?? [];
        if (doc["instance_group"] is JsonArray entries && group < entries.Count && entries[group] is JsonObject entry)
        {
            entry["count"] = count;
        }
        else
        {
            // The document named no groups (the default one): it names it now, as it serves.
            doc["instance_group"] = new JsonArray(new JsonObject { ["count"] = count, ["kind"] = "KIND_CPU" });
        }

        return config with { InstanceGroups = groups, Document = doc.ToJsonString() };
    }
}
