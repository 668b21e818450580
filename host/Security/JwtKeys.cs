using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace LowLatency.Host.Security;

/// <summary>
/// The keys bearer tokens are checked against, and the algorithms accepted, loaded from
/// <see cref="JwtOptions"/>. A symmetric key must be at least as long as the hash of every HMAC
/// algorithm it serves (RFC 7518 §3.2; IdentityModel refuses shorter ones when a token arrives, not
/// at start): 32 bytes for HS256, 48 for HS384, 64 for HS512.
/// </summary>
internal sealed record JwtKeys(IReadOnlyList<SecurityKey> Keys, IReadOnlyList<string> Algorithms)
{
    /// <summary>The HMAC algorithms and the shortest key, in bytes, each accepts.</summary>
    public static readonly IReadOnlyList<(string Name, int KeyBytes)> Hmac =
    [
        (SecurityAlgorithms.HmacSha256, 32), (SecurityAlgorithms.HmacSha384, 48), (SecurityAlgorithms.HmacSha512, 64),
    ];

    /// <summary>The public-key algorithms a JWKS file's keys may serve.</summary>
    public static readonly IReadOnlyList<string> PublicKey =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    /// <summary>
    /// Loads the keys; throws <see cref="InvalidSettingException"/>, naming the setting under
    /// <paramref name="path"/>, on any setting that cannot take effect as written. Keys are
    /// described, never repeated.
    /// Without <see cref="JwtOptions.Algorithms"/>, the accepted algorithms are those the keys
    /// serve: each HMAC algorithm the symmetric key is long enough for, and the public-key ones
    /// with a JWKS file.
    /// </summary>
    public static JwtKeys Load(JwtOptions jwt, string path)
    {
        var keys = new List<SecurityKey>();
        byte[]? secret = null;
        if (jwt.SigningKey is { } encoded)
        {
            secret = Decode(encoded, $"{path}:SigningKey");
            keys.Add(new SymmetricSecurityKey(secret));
        }

        bool jwks = false;
        if (jwt.JwksFile is { } file)
        {
            var fromFile = ReadJwks(file, $"{path}:JwksFile");
            keys.AddRange(fromFile);
            jwks = true;
        }

        if (keys.Count == 0)
        {
            throw new InvalidSettingException($"{path} is set but has no key: it needs a SigningKey (base64) or a JwksFile");
        }

        string[] algorithms = jwt.Algorithms.Length == 0
            ? [.. Hmac.Where(a => secret?.Length >= a.KeyBytes).Select(a => a.Name), .. jwks ? PublicKey : []]
            : Configured(jwt.Algorithms, secret, jwks, path);
        if (secret is not null && !algorithms.Any(a => Hmac.Any(h => h.Name == a)))
        {
            throw new InvalidSettingException($"{path}:SigningKey cannot take effect: {path}:Algorithms lists no HMAC algorithm (HS256, HS384, HS512)");
        }

        if (jwks && !algorithms.Any(PublicKey.Contains))
        {
            throw new InvalidSettingException($"{path}:JwksFile cannot take effect: {path}:Algorithms lists no public-key algorithm ({string.Join(", ", PublicKey)})");
        }

        return new JwtKeys(keys, algorithms);
    }

    /// <summary>The algorithms the operator listed, each checked against the keys that would serve it.</summary>
    private static string[] Configured(string[] listed, byte[]? secret, bool jwks, string path)
    {
        var algorithms = new List<string>();
        foreach (var name in listed)
        {
            if (Hmac.FirstOrDefault(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { Name: not null } hmac)
            {
                if (secret is null)
                {
                    throw new InvalidSettingException($"{path}:Algorithms lists {hmac.Name}, which needs {path}:SigningKey");
                }

                if (secret.Length < hmac.KeyBytes)
                {
                    throw new InvalidSettingException($"{path}:SigningKey is {secret.Length} bytes, too short for {hmac.Name} in {path}:Algorithms: " +
                        $"{hmac.Name} needs a key of at least {hmac.KeyBytes} bytes (HS256 32, HS384 48, HS512 64)");
                }

                algorithms.Add(hmac.Name);
            }
            else if (PublicKey.FirstOrDefault(a => a.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } publicKey)
            {
                if (!jwks)
                {
                    throw new InvalidSettingException($"{path}:Algorithms lists {publicKey}, which needs {path}:JwksFile");
                }

                algorithms.Add(publicKey);
            }
            else
            {
                throw new InvalidSettingException($"{path}:Algorithms lists '{name}': it takes {string.Join(", ", Hmac.Select(a => a.Name).Concat(PublicKey))}");
            }
        }

        return [.. algorithms.Distinct()];
    }

    private static byte[] Decode(string encoded, string setting)
    {
        if (string.IsNullOrWhiteSpace(encoded))
        {
            throw new InvalidSettingException($"{setting} is empty: it needs a key of at least 32 random bytes, base64");
        }

        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            throw new InvalidSettingException($"{setting} is not base64 (of a key of at least 32 random bytes)");
        }

        int shortest = Hmac.Min(a => a.KeyBytes);
        if (secret.Length < shortest)
        {
            throw new InvalidSettingException($"{setting} is {secret.Length} bytes: HS256, the shortest, needs a key of at least {shortest} bytes (HS384 48, HS512 64)");
        }

        return secret;
    }

    private static List<SecurityKey> ReadJwks(string file, string setting)
    {
        if (file.Length == 0)
        {
            throw new InvalidSettingException($"{setting} is empty: it needs a file's path");
        }

        try
        {
            var keys = new JsonWebKeySet(File.ReadAllText(file)).GetSigningKeys().ToList();
            return keys.Count > 0 ? keys : throw new InvalidSettingException($"{setting} '{file}' holds no signing key IdentityModel can use");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or JsonException)
        {
            throw new InvalidSettingException($"{setting} '{file}' cannot be read as a JWKS: {e.Message}");
        }
    }
}
