using System.Globalization;
using LowLatency.Engine.Config;

namespace LowLatency.Engine.Repository;

/// <summary>A model found in the repository: its configuration and the version files to serve.</summary>
public sealed record ModelDefinition(ModelConfig Config, string Directory, IReadOnlyDictionary<long, string> VersionFiles);

/// <summary>
/// The model repository, laid out as Triton's: <c>&lt;root&gt;/&lt;name&gt;/config.json</c> and
/// <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.pt</c>. Scanning reads and validates every configuration
/// without loading any model, so a bad file stops the server before it binds a port.
/// </summary>
public static class ModelRepository
{
    public static IReadOnlyList<ModelDefinition> Scan(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new ModelConfigException(root, "model repository directory not found");
        }

        var models = new List<ModelDefinition>();
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string dirName = Path.GetFileName(dir);
            if (dirName.StartsWith('.') || dirName == "__pycache__")
            {
                continue;
            }

            string configPath = Path.Combine(dir, "config.json");
            if (!File.Exists(configPath))
            {
                throw new ModelConfigException(configPath, "missing: every model directory needs a config.json");
            }

            var config = ModelConfigReader.Read(configPath);
            if (config.Name != dirName)
            {
                throw new ModelConfigException(configPath, "name", $"'{config.Name}' must equal the model's directory name '{dirName}'");
            }

            var available = new Dictionary<long, string>();
            foreach (var vdir in Directory.GetDirectories(dir))
            {
                if (long.TryParse(Path.GetFileName(vdir), NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0)
                {
                    available[v] = Path.Combine(vdir, config.DefaultModelFilename);
                }
            }

            var selected = config.VersionPolicy.Select(available.Keys);
            if (selected.Count == 0)
            {
                throw new ModelConfigException(configPath, "version_policy", available.Count == 0
                    ? $"no version directories (such as {dir}/1/{config.DefaultModelFilename}) found"
                    : "selects none of the versions present: " + string.Join(", ", available.Keys.Order()));
            }

            var files = new SortedDictionary<long, string>();
            foreach (var v in selected)
            {
                if (!File.Exists(available[v]))
                {
                    throw new ModelConfigException(available[v], "model file not found");
                }

                files[v] = available[v];
            }

            models.Add(new ModelDefinition(config, dir, files));
        }

        return models;
    }
}
