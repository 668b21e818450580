namespace LowLatency.Features.Definitions;

/// <summary>A feature repository that cannot be served: names the file and the field.</summary>
public sealed class FeatureRepositoryException : Exception
{
    public FeatureRepositoryException(string file, string field, string problem)
        : base($"{file}: field '{field}': {problem}")
    {
        File = file;
        Field = field;
    }

    public FeatureRepositoryException(string file, string problem, Exception? inner = null)
        : base($"{file}: {problem}", inner)
    {
        File = file;
        Field = string.Empty;
    }

    public string File { get; }

    public string Field { get; }
}
