using System.Globalization;
using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Engine.Repository;

namespace LowLatency.Gateway.Config;

/// <summary>
/// <c>&lt;repository&gt;/aliases.json</c>, read as strictly as config.json: each field checked for its
/// kind and range, unknown fields refused, every error a <see cref="ModelConfigException"/> naming the
/// file and the field's path (<c>aliases.rank.backends[1].weight</c>). A top-level file, not a
/// directory per alias, so that the repository's model scan (one directory per model, each with its
/// config.json) stays as it is. No file: no aliases.
/// </summary>
public static class AliasFile
{
    public const string FileName = "aliases.json";

    private static readonly HashSet<string> RootFields = ["aliases"];
    private static readonly HashSet<string> AliasFields = ["backends", "weights", "deadline_milliseconds", "retries", "hedge_after_milliseconds", "rules"];
    private static readonly HashSet<string> RuleFields = ["backend", "parameter", "equals", "input", "dimension", "at_least", "at_most"];
    private static readonly HashSet<string> BackendFields = ["name", "model", "version", "weight", "url", "timeout_milliseconds", "max_connections", "idempotent", "tls", "api_key", "bearer_token", "grpc_url"];
    private static readonly HashSet<string> RemoteOnlyFields = ["timeout_milliseconds", "max_connections", "idempotent", "tls", "api_key", "bearer_token", "grpc_url"];
    private static readonly HashSet<string> TlsFields = ["ca", "certificate", "key"];
    private static readonly HashSet<string> PolicyFields =
        ["floor_percent", "window_seconds", "tick_milliseconds", "latency_tolerance", "eject_error_rate", "min_requests", "cooldown_seconds", "probe_requests"];

    public static string PathIn(string repository) => Path.Combine(repository, FileName);

    /// <summary>The aliases of the repository at <paramref name="repository"/>; none when it has no alias file.</summary>
    public static IReadOnlyList<AliasDefinition> Read(string repository)
    {
        string path = PathIn(repository);
        if (!File.Exists(path))
        {
            return [];
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new ModelConfigException(path, $"cannot be read: {e.Message}", e);
        }

        return ParseIn(repository, text);
    }

    /// <summary>The document <paramref name="text"/> read as the alias file of the repository at <paramref name="repository"/> would be (its models, its relative PEM paths).</summary>
    public static IReadOnlyList<AliasDefinition> ParseIn(string repository, string text) =>
        Parse(PathIn(repository), text, name => Directory.Exists(Path.Combine(repository, name)));

    /// <summary>
    /// Writes <paramref name="content"/> as the repository's alias file: to a file of its own beside
    /// it, flushed to the disk, then renamed over it, so that a reader (a restart, a replica polling the
    /// same repository) finds the old file or the new one, never a part. The name is unique because
    /// two processes share a repository during a handover. Throws IOException or UnauthorizedAccessException.
    /// </summary>
    public static void Replace(string repository, ReadOnlySpan<byte> content)
    {
        string path = PathIn(repository);
        string temporary = Path.Combine(repository, $".{FileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var f = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                f.Write(content);
                f.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Reads the document <paramref name="text"/>; <paramref name="isModel"/> says whether a name is a model of the repository (an alias may not hide one).</summary>
    public static IReadOnlyList<AliasDefinition> Parse(string file, string text, Func<string, bool> isModel)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(file, $"is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            Fields(file, root, string.Empty, RootFields);
            if (!root.TryGetProperty("aliases", out var aliases))
            {
                throw new ModelConfigException(file, "aliases", "is required");
            }

            Expect(file, aliases, JsonValueKind.Object, "aliases");
            var result = new List<AliasDefinition>();
            foreach (var a in aliases.EnumerateObject())
            {
                string path = $"aliases.{a.Name}";
                if (!ModelRepository.IsValidName(a.Name))
                {
                    throw new ModelConfigException(file, path, "an alias name takes letters, digits, '-', '_' and '.', does not start with '.', and has at most 128 characters");
                }

                if (isModel(a.Name))
                {
                    throw new ModelConfigException(file, path, $"'{a.Name}' is a model of the repository: an alias may not hide it");
                }

                result.Add(Alias(file, a.Name, a.Value, path));
            }

            return result;
        }
    }

    private static AliasDefinition Alias(string file, string name, JsonElement e, string path)
    {
        Fields(file, e, path, AliasFields);
        if (!e.TryGetProperty("backends", out var list))
        {
            throw new ModelConfigException(file, $"{path}.backends", "is required");
        }

        Expect(file, list, JsonValueKind.Array, $"{path}.backends");
        var backends = new List<BackendDefinition>();
        int i = 0;
        foreach (var b in list.EnumerateArray())
        {
            var backend = Backend(file, b, $"{path}.backends[{i}]");
            foreach (var other in backends)
            {
                if (other.Name == backend.Name)
                {
                    throw new ModelConfigException(file, $"{path}.backends[{i}].name", $"'{backend.Name}' names another backend of this alias already");
                }
            }

            backends.Add(backend);
            i++;
        }

        if (backends.Count == 0)
        {
            throw new ModelConfigException(file, $"{path}.backends", "needs at least one backend");
        }

        if (backends.Count > 64)
        {
            throw new ModelConfigException(file, $"{path}.backends", $"has {backends.Count} backends; an alias takes at most 64");
        }

        var policy = e.TryGetProperty("weights", out var w) ? Policy(file, w, $"{path}.weights") : WeightPolicy.Default;
        double deadline = Number(file, e, "deadline_milliseconds", path, 1, 3_600_000) ?? AliasDefinition.DefaultDeadlineMilliseconds;
        int retries = (int)(Integer(file, e, "retries", path, 0, 1) ?? 1);
        double? hedge = Number(file, e, "hedge_after_milliseconds", path, 1, 3_600_000);
        if (hedge is { } h)
        {
            if (h >= deadline)
            {
                throw new ModelConfigException(file, $"{path}.hedge_after_milliseconds", $"{h} ms is not within the alias's deadline_milliseconds ({deadline} ms): no hedge could be sent");
            }

            if (retries == 0)
            {
                throw new ModelConfigException(file, $"{path}.hedge_after_milliseconds", "needs retries 1: the hedge is the request's further attempt");
            }

            if (backends.FindAll(b => b.IsRemote).Count < 2)
            {
                throw new ModelConfigException(file, $"{path}.hedge_after_milliseconds", "needs two remote backends at least: a hedge goes from one remote backend to another");
            }
        }
        for (int k = 0; k < backends.Count; k++)
        {
            if (backends[k].Remote is { } r && r.TimeoutMilliseconds > deadline)
            {
                // Given, it contradicts the deadline; defaulted, it is the deadline.
                if (list[k].TryGetProperty("timeout_milliseconds", out _))
                {
                    throw new ModelConfigException(file, $"{path}.backends[{k}].timeout_milliseconds", $"{r.TimeoutMilliseconds} ms is longer than the alias's deadline_milliseconds ({deadline} ms)");
                }

                backends[k] = backends[k] with { Remote = r with { TimeoutMilliseconds = deadline } };
            }
        }

        var rules = new List<RouteRule>();
        if (e.TryGetProperty("rules", out var ruleList))
        {
            Expect(file, ruleList, JsonValueKind.Array, $"{path}.rules");
            int k = 0;
            foreach (var rule in ruleList.EnumerateArray())
            {
                rules.Add(Rule(file, rule, $"{path}.rules[{k++}]", backends));
            }

            if (rules.Count > 64)
            {
                throw new ModelConfigException(file, $"{path}.rules", $"has {rules.Count} rules; an alias takes at most 64");
            }
        }

        return new AliasDefinition(name, backends, policy, deadline, retries, rules) { HedgeAfterMilliseconds = hedge };
    }

    private static BackendDefinition Backend(string file, JsonElement e, string path)
    {
        Fields(file, e, path, BackendFields);
        string model = String(file, e, "model", path) ?? throw new ModelConfigException(file, $"{path}.model", "is required");
        if (!ModelRepository.IsValidName(model))
        {
            throw new ModelConfigException(file, $"{path}.model", $"'{model}' is not a model name");
        }

        string name = String(file, e, "name", path) ?? model;
        if (!ModelRepository.IsValidName(name))
        {
            throw new ModelConfigException(file, $"{path}.name", $"'{name}' is not a valid backend name (the characters of a model name)");
        }

        long? version = e.TryGetProperty("version", out _) ? Integer(file, e, "version", path, 1, long.MaxValue) : null;
        int weight = (int)(Integer(file, e, "weight", path, 1, 1_000_000) ?? throw new ModelConfigException(file, $"{path}.weight", "is required"));
        return new BackendDefinition(name, model, version, weight, Remote(file, e, path));
    }

    /// <summary>A rule: the backend it sends to (by name), and exactly one of a parameter's value or an input's dimension range.</summary>
    private static RouteRule Rule(string file, JsonElement e, string path, List<BackendDefinition> backends)
    {
        Fields(file, e, path, RuleFields);
        string target = String(file, e, "backend", path) ?? throw new ModelConfigException(file, $"{path}.backend", "is required: the name of the backend the rule sends to");
        int backend = backends.FindIndex(b => b.Name == target);
        if (backend < 0)
        {
            throw new ModelConfigException(file, $"{path}.backend", $"'{target}' is not a backend of this alias; its backends: {string.Join(", ", backends.Select(b => b.Name))}");
        }

        string? parameter = String(file, e, "parameter", path);
        string? input = String(file, e, "input", path);
        if ((parameter is null) == (input is null))
        {
            throw new ModelConfigException(file, path, "needs exactly one of 'parameter' (a request parameter's value) and 'input' (an input's shape)");
        }

        if (parameter is not null)
        {
            foreach (string f in new[] { "dimension", "at_least", "at_most" })
            {
                if (e.TryGetProperty(f, out _))
                {
                    throw new ModelConfigException(file, $"{path}.{f}", "belongs to an input rule, not a parameter rule");
                }
            }

            if (parameter.Length == 0)
            {
                throw new ModelConfigException(file, $"{path}.parameter", "is empty");
            }

            if (!e.TryGetProperty("equals", out var v))
            {
                throw new ModelConfigException(file, $"{path}.equals", "is required: the value the parameter must have");
            }

            var bytes = System.Text.Encoding.UTF8.GetBytes(parameter);
            return v.ValueKind switch
            {
                JsonValueKind.String => new RouteRule(backend, RuleSubject.Parameter, parameter, bytes, RuleValueKind.String, System.Text.Encoding.UTF8.GetBytes(v.GetString()!), 0, false, 0, 0, 0),
                JsonValueKind.Number => new RouteRule(backend, RuleSubject.Parameter, parameter, bytes, RuleValueKind.Number, null, v.GetDouble(), false, 0, 0, 0),
                JsonValueKind.True or JsonValueKind.False => new RouteRule(backend, RuleSubject.Parameter, parameter, bytes, RuleValueKind.Boolean, null, 0, v.GetBoolean(), 0, 0, 0),
                _ => throw new ModelConfigException(file, $"{path}.equals", $"expected a string, a number or a boolean, found {Describe(v.ValueKind)}"),
            };
        }

        if (e.TryGetProperty("equals", out _))
        {
            throw new ModelConfigException(file, $"{path}.equals", "belongs to a parameter rule, not an input rule");
        }

        if (!ModelRepository.IsValidName(input!))
        {
            throw new ModelConfigException(file, $"{path}.input", $"'{input}' is not an input name");
        }

        int dimension = (int)(Integer(file, e, "dimension", path, 0, 63) ?? -1);
        long? atLeast = Integer(file, e, "at_least", path, 0, long.MaxValue);
        long? atMost = Integer(file, e, "at_most", path, 0, long.MaxValue);
        if (atLeast is null && atMost is null)
        {
            throw new ModelConfigException(file, path, "an input rule needs 'at_least', 'at_most' or both");
        }

        if (atLeast > atMost)
        {
            throw new ModelConfigException(file, $"{path}.at_least", $"{atLeast} is above at_most ({atMost})");
        }

        return new RouteRule(backend, RuleSubject.Input, input!, System.Text.Encoding.UTF8.GetBytes(input!), RuleValueKind.Number, null, 0, false, dimension, atLeast ?? 0, atMost ?? long.MaxValue);
    }

    /// <summary>The remote server of a backend with a <c>url</c>; null for a local one, which may not have the remote fields.</summary>
    private static RemoteEndpoint? Remote(string file, JsonElement e, string path)
    {
        string? text = String(file, e, "url", path);
        if (text is null)
        {
            foreach (var p in e.EnumerateObject())
            {
                if (RemoteOnlyFields.Contains(p.Name))
                {
                    throw new ModelConfigException(file, $"{path}.{p.Name}", "applies to a remote backend only: give the backend a url");
                }
            }

            return null;
        }

        var url = BaseAddress(file, text, $"{path}.url");
        Uri? grpcUrl = null;
        if (String(file, e, "grpc_url", path) is { } grpcText)
        {
            grpcUrl = BaseAddress(file, grpcText, $"{path}.grpc_url");
            if (grpcUrl.Scheme != url.Scheme)
            {
                throw new ModelConfigException(file, $"{path}.grpc_url", $"is {grpcUrl.Scheme} where url is {url.Scheme}: one server, one tls setting for both");
            }
        }

        double timeout = Number(file, e, "timeout_milliseconds", path, 1, 3_600_000) ?? 1000;
        int connections = (int)(Integer(file, e, "max_connections", path, 1, 65_536) ?? 256);
        bool idempotent = true;
        if (e.TryGetProperty("idempotent", out var i))
        {
            if (i.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new ModelConfigException(file, $"{path}.idempotent", $"expected a boolean, found {Describe(i.ValueKind)}");
            }

            idempotent = i.GetBoolean();
        }

        RemoteTls? tls = null;
        if (e.TryGetProperty("tls", out var t))
        {
            if (url.Scheme != Uri.UriSchemeHttps)
            {
                throw new ModelConfigException(file, $"{path}.tls", $"needs an https url, not '{text}'");
            }

            tls = Tls(file, t, $"{path}.tls");
        }

        var (apiKey, apiKeyVariable) = Secret(file, e, "api_key", path);
        var (token, tokenVariable) = Secret(file, e, "bearer_token", path);
        var credentials = apiKey is null && token is null ? null : new RemoteCredentials(apiKey, apiKeyVariable, token, tokenVariable);
        return new RemoteEndpoint(url, timeout, connections, idempotent, tls, credentials, grpcUrl);
    }

    private static Uri BaseAddress(string file, string text, string field)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || url.PathAndQuery != "/" || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            throw new ModelConfigException(file, field, $"'{text}' is not a server's base address: http:// or https://, a host and a port, no path, query or credentials");
        }

        return url;
    }

    /// <summary>
    /// A credential for the remote: the value of the environment variable the field names as
    /// <c>${NAME}</c> (a Kubernetes Secret's env, a systemd credential), read when the file is. The
    /// file itself may not hold one: it is written through the repository API and kept in the repository.
    /// </summary>
    private static (string? Value, string? Variable) Secret(string file, JsonElement e, string key, string path)
    {
        string? text = String(file, e, key, path);
        if (text is null)
        {
            return (null, null);
        }

        string field = $"{path}.{key}";
        if (text.Length < 4 || !text.StartsWith("${", StringComparison.Ordinal) || text[^1] != '}' || !IsVariableName(text.AsSpan(2, text.Length - 3)))
        {
            throw new ModelConfigException(file, field, "must name an environment variable as \"${NAME}\" (letters, digits and _): the alias file is no place for a secret");
        }

        string variable = text[2..^1];
        string? value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(value))
        {
            throw new ModelConfigException(file, field, $"names the environment variable {variable}, which is not set");
        }

        if (value.AsSpan().IndexOfAny("\r\n\0") >= 0 || value.Trim().Length != value.Length)
        {
            throw new ModelConfigException(file, field, $"the environment variable {variable} holds a line break, a NUL or white space at an end: not a header value");
        }

        return (value, variable);
    }

    private static bool IsVariableName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The authorities (required) and the client certificate and key (both or neither), PEM files relative to the alias file, loaded now so that a bad file is refused with its field.</summary>
    private static RemoteTls Tls(string file, JsonElement e, string path)
    {
        Fields(file, e, path, TlsFields);
        string dir = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
        string ca = String(file, e, "ca", path) ?? throw new ModelConfigException(file, $"{path}.ca", "is required: the PEM file of the authorities the backend's certificate must chain to");
        string? certificate = String(file, e, "certificate", path);
        string? key = String(file, e, "key", path);
        if ((certificate is null) != (key is null))
        {
            throw new ModelConfigException(file, $"{path}.{(certificate is null ? "certificate" : "key")}", "is required with the other: a client certificate and its key go together");
        }

        var authorities = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(Path.Combine(dir, ca));
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ModelConfigException(file, $"{path}.ca", $"'{ca}' cannot be read as PEM certificates: {x.Message}");
        }

        if (authorities.Count == 0)
        {
            throw new ModelConfigException(file, $"{path}.ca", $"'{ca}' holds no certificate");
        }

        System.Security.Cryptography.X509Certificates.X509Certificate2? client = null;
        if (certificate is not null)
        {
            try
            {
                client = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(Path.Combine(dir, certificate), Path.Combine(dir, key!));
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                throw new ModelConfigException(file, $"{path}.certificate", $"'{certificate}' with key '{key}' cannot be loaded as a PEM certificate and its private key: {x.Message}");
            }
        }

        return new RemoteTls(authorities, client);
    }

    private static WeightPolicy Policy(string file, JsonElement e, string path)
    {
        Fields(file, e, path, PolicyFields);
        var d = WeightPolicy.Default;
        var policy = new WeightPolicy
        {
            FloorPercent = Number(file, e, "floor_percent", path, 0, 100) ?? d.FloorPercent,
            WindowSeconds = Number(file, e, "window_seconds", path, 0.01, 3600) ?? d.WindowSeconds,
            TickMilliseconds = Number(file, e, "tick_milliseconds", path, 10, 60_000) ?? d.TickMilliseconds,
            LatencyTolerance = Number(file, e, "latency_tolerance", path, 1, 1000) ?? d.LatencyTolerance,
            EjectErrorRate = Number(file, e, "eject_error_rate", path, 0.01, 1) ?? d.EjectErrorRate,
            MinRequests = (int)(Integer(file, e, "min_requests", path, 1, 1_000_000) ?? d.MinRequests),
            CooldownSeconds = Number(file, e, "cooldown_seconds", path, 0, 3600) ?? d.CooldownSeconds,
            ProbeRequests = (int)(Integer(file, e, "probe_requests", path, 1, 1_000_000) ?? d.ProbeRequests),
        };
        if (policy.WindowSeconds * 1000 < policy.TickMilliseconds)
        {
            throw new ModelConfigException(file, $"{path}.window_seconds", $"the window ({policy.WindowSeconds} s) is shorter than one tick ({policy.TickMilliseconds} ms)");
        }

        return policy;
    }

    private static void Fields(string file, JsonElement e, string path, HashSet<string> known)
    {
        Expect(file, e, JsonValueKind.Object, path.Length == 0 ? "(root)" : path);
        foreach (var p in e.EnumerateObject())
        {
            if (!known.Contains(p.Name))
            {
                throw new ModelConfigException(file, path.Length == 0 ? p.Name : $"{path}.{p.Name}", $"unknown field; known: {string.Join(", ", known)}");
            }
        }
    }

    private static void Expect(string file, JsonElement e, JsonValueKind kind, string path)
    {
        if (e.ValueKind != kind)
        {
            throw new ModelConfigException(file, path, $"expected {Describe(kind)}, found {Describe(e.ValueKind)}");
        }
    }

    private static string? String(string file, JsonElement e, string key, string path)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        Expect(file, v, JsonValueKind.String, $"{path}.{key}");
        return v.GetString()!;
    }

    private static long? Integer(string file, JsonElement e, string key, string path, long min, long max)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        string field = $"{path}.{key}";
        Expect(file, v, JsonValueKind.Number, field);
        if (!v.TryGetInt64(out long n))
        {
            throw new ModelConfigException(file, field, $"expected an integer, found {v.GetRawText()}");
        }

        if (n < min || n > max)
        {
            throw new ModelConfigException(file, field, $"must be within {min.ToString(CultureInfo.InvariantCulture)} … {max.ToString(CultureInfo.InvariantCulture)}, not {n.ToString(CultureInfo.InvariantCulture)}");
        }

        return n;
    }

    private static double? Number(string file, JsonElement e, string key, string path, double min, double max)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            return null;
        }

        string field = $"{path}.{key}";
        Expect(file, v, JsonValueKind.Number, field);
        double n = v.GetDouble();
        if (!(n >= min && n <= max))
        {
            throw new ModelConfigException(file, field, $"must be within {min.ToString(CultureInfo.InvariantCulture)} … {max.ToString(CultureInfo.InvariantCulture)}, not {v.GetRawText()}");
        }

        return n;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
