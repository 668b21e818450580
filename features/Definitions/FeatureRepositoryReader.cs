using System.Text.Json;

namespace LowLatency.Features.Definitions;

/// <summary>
/// Reads a feature repository folder strictly: <c>feature_store.json</c>, then every other
/// <c>*.json</c> in the folder (not its subfolders) in name order, each a definition file. An unknown
/// or invalid field, a name defined twice, or a reference to something not defined stops the read
/// with a <see cref="FeatureRepositoryException"/> naming the file and the field.
/// </summary>
public static class FeatureRepositoryReader
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static FeatureRepository Read(string directory, Func<string, string?>? environment = null)
    {
        if (!Directory.Exists(directory))
        {
            throw new FeatureRepositoryException(directory, "is not a folder; a feature repository is a folder holding feature_store.json and definition files");
        }

        environment ??= Environment.GetEnvironmentVariable;
        string storePath = Path.Combine(directory, FeatureStoreFileReader.FileName);
        if (!File.Exists(storePath))
        {
            throw new FeatureRepositoryException(storePath, "is required: it names the project and the online stores");
        }

        var store = Parse(storePath, root => new FeatureStoreFileReader(storePath).Read(root, environment));
        var files = Directory.GetFiles(directory, "*.json")
            .Where(f => !string.Equals(Path.GetFileName(f), FeatureStoreFileReader.FileName, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => Parse(f, root => new DefinitionFileReader(f).Read(root)))
            .ToList();
        return new RepositoryLinker(directory, store, files).Link();
    }

    private static T Parse<T>(string path, Func<JsonElement, T> read)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new FeatureRepositoryException(path, "cannot read: " + e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new FeatureRepositoryException(path, "cannot read: " + e.Message, e);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            throw new FeatureRepositoryException(path, "not valid JSON: " + e.Message, e);
        }

        using (doc)
        {
            return read(doc.RootElement);
        }
    }
}
