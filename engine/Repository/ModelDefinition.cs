using System.Globalization;
using LowLatency.Engine.Config;
using LowLatency.Native.Files;

namespace LowLatency.Engine.Repository;

/// <summary>A model found in the repository: its configuration and the version files to serve.</summary>
/// <param name="ConfigText">The configuration as read (or as given in a load request): a reload compares it.</param>
public sealed record ModelDefinition(ModelConfig Config, string Directory, IReadOnlyDictionary<long, string> VersionFiles, string ConfigText)
{
    /// <summary>
    /// What a version file looked like when read: a poll reloads a version whose file changed, or was
    /// replaced by another of the same size and timestamp (see <see cref="FileIdentity"/>).
    /// </summary>
    public static string Stamp(string file) => FileIdentity.Of(file)?.ToString() ?? "missing";
}
