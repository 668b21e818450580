using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Engine.Config;

namespace LowLatency.Gateway.Config;

/// <summary>
/// One alias set or removed in the alias file's text, the others kept as they are (their comments
/// are not: the file is written again from its parsed form, indented). The result is validated as a
/// whole file by the caller.
/// </summary>
public static class AliasFileEdit
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// The file <paramref name="stored"/> (null: none) with alias <paramref name="name"/> set to
    /// <paramref name="definition"/> (JSON text), or removed when it is null; <paramref name="found"/>
    /// says whether the file had it. Throws <see cref="ModelConfigException"/> when the definition or
    /// the stored file is not JSON of the file's shape.
    /// </summary>
    public static byte[] With(string file, string? stored, string name, string? definition, out bool found)
    {
        JsonObject aliases;
        JsonObject root;
        try
        {
            root = JsonNode.Parse(stored ?? """{"aliases":{}}""", documentOptions: Options) as JsonObject
                ?? throw new ModelConfigException(file, "(root)", "the file in the repository is not an object: put the whole file");
            aliases = root["aliases"] as JsonObject
                ?? throw new ModelConfigException(file, "aliases", "the file in the repository has no object 'aliases': put the whole file");
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(file, $"the file in the repository is not valid JSON ({e.Message}): put the whole file", e);
        }

        found = aliases.ContainsKey(name);
        if (definition is null)
        {
            aliases.Remove(name);
        }
        else
        {
            try
            {
                aliases[name] = JsonNode.Parse(definition, documentOptions: Options);
            }
            catch (JsonException e)
            {
                throw new ModelConfigException(file, $"aliases.{name}", $"is not valid JSON: {e.Message}");
            }
        }

        return Encoding.UTF8.GetBytes(root.ToJsonString(Indented));
    }
}
