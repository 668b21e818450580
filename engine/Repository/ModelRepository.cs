using System.Globalization;
using LowLatency.Engine.Config;
using LowLatency.Native.Files;

namespace LowLatency.Engine.Repository;

/// <summary>
/// The model repository, laid out as Triton's: <c>&lt;root&gt;/&lt;name&gt;/config.json</c> (or
/// Triton's <c>config.pbtxt</c>, see <see cref="ModelConfigFiles"/>) and
/// <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.pt</c>. Scanning reads and validates every configuration
/// without loading any model, so a bad file stops the server before it binds a port. Names reach
/// the file system only through <see cref="ModelDirectory"/>, which refuses anything but a plain
/// directory name directly under the root.
/// </summary>
internal static class ModelRepository
{
    public static IReadOnlyList<ModelDefinition> Scan(string root, Func<ModelConfig, string, ModelConfig>? check = null)
    {
        var models = new List<ModelDefinition>();
        foreach (var name in List(root))
        {
            models.Add(Read(root, name, null, check));
        }

        return models;
    }

    /// <summary>The names of the model directories under <paramref name="root"/>, in order.</summary>
    public static IReadOnlyList<string> List(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new ModelConfigException(root, "model repository directory not found");
        }

        var names = new List<string>();
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string dirName = Path.GetFileName(dir);
            if (!dirName.StartsWith('.') && dirName != "__pycache__" && IsValidName(dirName))
            {
                names.Add(dirName);
            }
        }

        return names;
    }

    /// <summary>
    /// A model name that may name a directory: letters, digits, '-', '_' and '.', not starting with
    /// '.', at most 128 characters. Everything else (separators, "..", control characters, an
    /// absolute path) is refused before any file-system call.
    /// </summary>
    public static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 128 || name[0] == '.')
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The directory of model <paramref name="name"/>, checked to lie directly under the root; null for an invalid name.</summary>
    public static string? ModelDirectory(string root, string name)
    {
        if (!IsValidName(name))
        {
            return null;
        }

        string full = Path.GetFullPath(Path.Combine(root, name));
        string parent = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        return Path.GetDirectoryName(full) == parent ? full : null;
    }

    /// <summary>
    /// Reads one model: its configuration (or <paramref name="configOverride"/>, a whole config.json
    /// document as Triton's load request passes it) and the version files its policy selects.
    /// </summary>
    /// <summary>Why a model with <c>features</c> is refused where nothing can join them (the scan leaves it unloaded).</summary>
    public const string NoFeatureStore = "this server has no feature store to join them from";

    public static ModelDefinition Read(string root, string name, string? configOverride, Func<ModelConfig, string, ModelConfig>? check = null)
    {
        string dir = ModelDirectory(root, name) ?? throw new ModelConfigException(name, "not a valid model name");
        if (!Directory.Exists(dir))
        {
            throw new ModelConfigException(dir, "no such model directory in the repository");
        }

        string configPath;
        string text;
        ModelConfig config;
        if (configOverride is not null)
        {
            // A load request's override is JSON, as Triton's; the files on disk are not read.
            configPath = Path.Combine(dir, ModelConfigFiles.Json);
            text = configOverride;
            config = ModelConfigReader.Parse(configOverride, $"{configPath} (overridden by the load request's parameters.config)");
        }
        else
        {
            configPath = ModelConfigFiles.Find(dir);
            text = File.ReadAllText(configPath);
            config = ModelConfigFiles.Parse(text, configPath);
        }

        if (config.Name != name)
        {
            throw new ModelConfigException(configPath, "name", $"{ClientText.Quoted(config.Name)} must equal the model's directory name '{name}'");
        }

        if (check is not null)
        {
            config = check(config, configPath);
        }
        else if (config.Features is not null)
        {
            throw new ModelConfigException(configPath, "features", NoFeatureStore);
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

        foreach (var v in config.Traffic.Keys)
        {
            if (!files.ContainsKey(v))
            {
                throw new ModelConfigException(configPath, $"traffic.{v}", $"version {v} is not served (version_policy serves {string.Join(", ", files.Keys)})");
            }
        }

        return new ModelDefinition(config, dir, files, text);
    }
}
