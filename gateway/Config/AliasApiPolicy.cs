using System.Text.Json;
using LowLatency.Engine.Config;

namespace LowLatency.Gateway.Config;

/// <summary>
/// What an alias file put through the repository API may name beyond what the file in the repository
/// already names: a credential's environment variable only if its name starts with
/// <see cref="VariablePrefix"/>, a PEM file only inside the repository. The operator's own file may name
/// any; without this an <c>admin</c> client could have the server send any of its environment (a JWT
/// signing key) to a backend of the client's choosing, or present a certificate and key of the host's.
/// What the stored file names stays allowed toward the same backend (its <c>url</c> and <c>grpc_url</c>),
/// so a file read with GET can be put back, but a stored credential cannot be pointed at another server.
/// </summary>
public static class AliasApiPolicy
{
    public const string VariablePrefix = "LOWLATENCY_GATEWAY_";

    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip };

    /// <summary>
    /// Throws <see cref="ModelConfigException"/> naming the field when <paramref name="text"/> names a
    /// variable or PEM file it may not. Checked before the document is read (which reads both); a
    /// document malformed elsewhere is left to <see cref="AliasFile.Parse"/> to refuse.
    /// </summary>
    public static void Check(string repository, string text, string? stored)
    {
        string file = AliasFile.PathIn(repository);
        var named = new HashSet<string>(StringComparer.Ordinal);
        if (stored is not null)
        {
            Visit(stored, (_, destination, kind, value) => named.Add(kind + destination + "\n" + Resolve(repository, kind, value)));
        }

        string root = Path.GetFullPath(repository).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        Visit(text, (field, destination, kind, value) =>
        {
            string resolved = Resolve(repository, kind, value);
            if (named.Contains(kind + destination + "\n" + resolved))
            {
                return;
            }

            if (kind == Kind.Variable && !resolved.StartsWith(VariablePrefix, StringComparison.Ordinal))
            {
                throw new ModelConfigException(file, field, $"through the repository API a credential names only an environment variable whose name starts with {VariablePrefix}, or one the alias file in the repository names already for the same url and grpc_url");
            }

            if (kind == Kind.Pem && !resolved.StartsWith(root, StringComparison.Ordinal))
            {
                throw new ModelConfigException(file, field, "through the repository API a PEM file must be inside the repository, or one the alias file in the repository names already for the same url and grpc_url");
            }
        });
    }

    private static class Kind
    {
        public const string Variable = "env:";
        public const string Pem = "pem:";
    }

    /// <summary>The variable's name, or the PEM file's full path as <see cref="AliasFile"/> resolves it (relative to the file).</summary>
    private static string Resolve(string repository, string kind, string value)
    {
        if (kind == Kind.Variable)
        {
            return value.Length > 3 && value.StartsWith("${", StringComparison.Ordinal) && value[^1] == '}' ? value[2..^1] : value;
        }

        try
        {
            return Path.GetFullPath(Path.Combine(Path.GetFullPath(repository), value));
        }
        catch (ArgumentException)
        {
            // Not a path (a NUL in it): outside the repository, and refused by the file's reader anyway.
            return value;
        }
    }

    /// <summary>Calls <paramref name="check"/> with each credential and PEM string of the document's backends: its field's path, the backend's destination (url and grpc_url), the kind and the string.</summary>
    private static void Visit(string text, Action<string, string, string, string> check)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, Options);
        }
        catch (JsonException)
        {
            return;
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("aliases", out var aliases) || aliases.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var alias in aliases.EnumerateObject())
            {
                if (alias.Value.ValueKind != JsonValueKind.Object || !alias.Value.TryGetProperty("backends", out var backends) || backends.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                int i = 0;
                foreach (var backend in backends.EnumerateArray())
                {
                    string path = $"aliases.{alias.Name}.backends[{i++}]";
                    if (backend.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    string destination = Text(backend, "url") + "\n" + Text(backend, "grpc_url");

                    foreach (string key in new[] { "api_key", "bearer_token" })
                    {
                        if (backend.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String)
                        {
                            check($"{path}.{key}", destination, Kind.Variable, v.GetString()!);
                        }
                    }

                    if (backend.TryGetProperty("tls", out var tls) && tls.ValueKind == JsonValueKind.Object)
                    {
                        foreach (string key in new[] { "ca", "certificate", "key" })
                        {
                            if (tls.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String)
                            {
                                check($"{path}.tls.{key}", destination, Kind.Pem, v.GetString()!);
                            }
                        }
                    }
                }
            }
        }
    }

    private static string Text(JsonElement backend, string key) =>
        backend.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}
