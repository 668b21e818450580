using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Features.Serving;
using static LowLatency.Host.Protocol.FeatureRequestDecoder;

namespace LowLatency.Host.Protocol;

/// <summary>
/// Feast's feature-server bodies from a parsed JSON document: the fields checked for their kind here,
/// the values (ids, feature values, event times) handed over as <see cref="JsonElement"/>s, which the
/// feature server reads and checks against the repository's types.
/// </summary>
internal static class FeatureJsonDecoder
{
    public static GetOnlineFeaturesRequest GetOnlineFeatures(JsonElement root)
    {
        RequireObject(root, "get-online-features");
        IReadOnlyList<string>? features = null;
        string? service = null;
        IReadOnlyDictionary<string, IReadOnlyList<object?>>? entities = null;
        bool full = false;
        foreach (var field in root.EnumerateObject())
        {
            switch (field.Name)
            {
                case "features":
                    features = field.Value.ValueKind == JsonValueKind.Null ? null : Strings(field.Value, "features");
                    break;
                case "feature_service":
                    service = OptionalString(field.Value, "feature_service");
                    break;
                case "entities":
                    entities = Columns(field.Value, "entities");
                    break;
                case "full_feature_names":
                    full = OptionalBool(field.Value, "full_feature_names");
                    break;
                default:
                    throw Unknown(field.Name, GetFields);
            }
        }

        return new GetOnlineFeaturesRequest
        {
            Features = features,
            FeatureService = service,
            Entities = entities ?? throw Bad("\"entities\" is required: an object of join key → a list of ids, one per row"),
            FullFeatureNames = full,
        };
    }

    public static PushRequest Push(JsonElement root)
    {
        RequireObject(root, "push");
        string? source = null;
        IReadOnlyDictionary<string, IReadOnlyList<object?>>? df = null;
        string to = "online";
        foreach (var field in root.EnumerateObject())
        {
            switch (field.Name)
            {
                case "push_source_name":
                    source = OptionalString(field.Value, "push_source_name");
                    break;
                case "df":
                    df = Columns(field.Value, "df");
                    break;
                case "to":
                    to = OptionalString(field.Value, "to") ?? "online";
                    break;
                case "allow_registry_cache" or "transform_on_write":
                    // Feast's: the registry here is read once at start-up, and a push source has no transformation.
                    OptionalBool(field.Value, field.Name);
                    break;
                default:
                    throw Unknown(field.Name, PushFields);
            }
        }

        return new PushRequest
        {
            PushSourceName = source ?? throw Bad("\"push_source_name\" is required"),
            Df = df ?? throw Bad("\"df\" is required: an object of column → a list of values, one per row"),
            To = to,
        };
    }

    private static void RequireObject(JsonElement root, string route)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"the body must be a JSON object (a {route} request), not {Kind(root)}");
        }
    }

    private static List<string> Strings(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"\"{field}\" must be a list of strings, not {Kind(value)}");
        }

        var list = new List<string>(CheckNames(field, value.GetArrayLength()));
        foreach (var item in value.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Bad($"\"{field}\"[{list.Count}] must be a string, not {Kind(item)}"));
        }

        return list;
    }

    private static string? OptionalString(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        _ => throw Bad($"\"{field}\" must be a string, not {Kind(value)}"),
    };

    private static bool OptionalBool(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False or JsonValueKind.Null => false,
        _ => throw Bad($"\"{field}\" must be true or false, not {Kind(value)}"),
    };

    /// <summary>An object of column name → list of values, as Feast's <c>entities</c> and <c>df</c>.</summary>
    private static Dictionary<string, IReadOnlyList<object?>> Columns(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"\"{field}\" must be an object of column → list of values, not {Kind(value)}");
        }

        var columns = new Dictionary<string, IReadOnlyList<object?>>(StringComparer.Ordinal);
        foreach (var column in value.EnumerateObject())
        {
            if (column.Value.ValueKind != JsonValueKind.Array)
            {
                throw Bad($"\"{field}\".{ClientText.Quoted(column.Name)} must be a list of values, one per row, not {Kind(column.Value)}");
            }

            var values = new object?[CheckRows(field, column.Name, column.Value.GetArrayLength())];
            int r = 0;
            foreach (var item in column.Value.EnumerateArray())
            {
                values[r++] = item.ValueKind == JsonValueKind.Null ? null : item;
            }

            if (!columns.TryAdd(column.Name, values))
            {
                throw Bad($"\"{field}\".{ClientText.Quoted(column.Name)} is given twice");
            }

            CheckNames(field, columns.Count);
        }

        return columns;
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
