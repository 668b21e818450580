using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using LowLatency.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Symmetric JWT keys against the algorithms they serve (RFC 7518 §3.2: a key at least as long as the
/// hash: 32 bytes for HS256, 48 for HS384, 64 for HS512): a key too short for an algorithm it is
/// configured for stops start-up, and a token in an algorithm the server does not accept gets a 401
/// that says so.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class JwtKeyLengthTests
{
    private const string Index = "/v2/repository/index";

    private static string Key(int bytes) => Convert.ToBase64String(Enumerable.Range(0, bytes).Select(i => (byte)(i * 37 + 11)).ToArray());

    [Theory]
    [InlineData(31, null, "HS256", "32")]
    [InlineData(32, "HS384", "HS384", "48")]
    [InlineData(48, "HS512", "HS512", "64")]
    [InlineData(63, "HS256,HS384,HS512", "HS512", "64")]
    public async Task A_key_too_short_for_an_algorithm_it_is_configured_for_stops_start_up(int bytes, string? algorithms, string algorithm, string needed)
    {
        string key = Key(bytes);
        string[] args = ["--LowLatency:Auth:Jwt:SigningKey=" + key, .. (algorithms?.Split(',') ?? []).Select((a, i) => $"--LowLatency:Auth:Jwt:Algorithms:{i}={a}")];
        string error = await HostileStart.AssertRefusedAsync(args, "LowLatency:Auth:Jwt:SigningKey");
        Assert.Contains(algorithm, error, StringComparison.Ordinal);
        Assert.Contains($"at least {needed} bytes", error, StringComparison.Ordinal);
        Assert.DoesNotContain(key, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--LowLatency:Auth:Jwt:SigningKey=", "LowLatency:Auth:Jwt:SigningKey")]
    [InlineData("--LowLatency:Auth:Jwt:SigningKey=not base64 at all, not even close!!", "LowLatency:Auth:Jwt:SigningKey")]
    [InlineData("--LowLatency:Auth:Jwt:JwksFile=/nonexistent/jwks.json", "LowLatency:Auth:Jwt:JwksFile")]
    [InlineData("--LowLatency:Auth:Jwt:Issuer=ll-test", "LowLatency:Auth:Jwt")]
    public async Task A_jwt_setting_that_cannot_take_effect_stops_start_up_naming_it(string argument, string setting)
    {
        await HostileStart.AssertRefusedAsync([argument], setting);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS1024")]
    [InlineData("RS256")]
    public async Task An_algorithm_the_keys_cannot_serve_stops_start_up(string algorithm)
    {
        await HostileStart.AssertRefusedAsync(["--LowLatency:Auth:Jwt:SigningKey=" + Key(64), "--LowLatency:Auth:Jwt:Algorithms:0=" + algorithm], "LowLatency:Auth:Jwt:Algorithms");
    }

    [Fact]
    public async Task A_64_byte_key_serves_all_three_and_a_32_byte_key_refuses_hs384_and_hs512_saying_why()
    {
        byte[] longKey = Convert.FromBase64String(Key(64));
        await using (var server = await HostileServer.StartAsync(["--LowLatency:Auth:Jwt:SigningKey=" + Convert.ToBase64String(longKey)]))
        {
            foreach (var algorithm in new[] { SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512 })
            {
                var (status, _) = await SendAsync(server.Client, Token(longKey, algorithm));
                Assert.True(status == HttpStatusCode.OK, $"{algorithm} with a 64-byte key: {status}");
            }

            Assert.True(await server.IsReadyAsync());
        }

        byte[] shortKey = Convert.FromBase64String(Key(32));
        await using (var server = await HostileServer.StartAsync(["--LowLatency:Auth:Jwt:SigningKey=" + Convert.ToBase64String(shortKey)]))
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(server.Client, Token(shortKey, SecurityAlgorithms.HmacSha256))).Status);
            foreach (var algorithm in new[] { SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512 })
            {
                var (status, message) = await SendAsync(server.Client, Token(shortKey, algorithm));
                Assert.Equal(HttpStatusCode.Unauthorized, status);
                Assert.Contains($"'{algorithm}' is not accepted", message, StringComparison.Ordinal);
            }

            // A token that claims HS512 over an HS256 signature made with the same key.
            string[] parts = Token(shortKey, SecurityAlgorithms.HmacSha256).Split('.');
            string header = Base64UrlEncoder.Encode("""{"alg":"HS512","typ":"JWT"}""");
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(server.Client, $"{header}.{parts[1]}.{parts[2]}")).Status);
            Assert.True(await server.IsReadyAsync());
        }
    }

    [Fact]
    public async Task An_hmac_token_made_with_the_issuers_public_key_is_refused()
    {
        // Algorithm confusion: the RSA public key, which anyone may hold, used as an HMAC secret.
        using var rsa = RSA.Create(2048);
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = "k1" });
        string jwks = Path.Combine(Path.GetTempPath(), $"ll-jwks-{Guid.NewGuid():N}.json");
        string json = System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        File.WriteAllText(jwks, json);
        try
        {
            await using var server = await HostileServer.StartAsync(["--LowLatency:Auth:Jwt:JwksFile=" + jwks]);
            foreach (var secret in new[] { Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetBytes(rsa.ExportSubjectPublicKeyInfoPem()), rsa.ExportSubjectPublicKeyInfo() })
            {
                var (status, _) = await SendAsync(server.Client, Token(secret, SecurityAlgorithms.HmacSha256, kid: "k1"));
                Assert.Equal(HttpStatusCode.Unauthorized, status);
            }

            Assert.Equal(HttpStatusCode.OK, (await SendAsync(server.Client, Token(new RsaSecurityKey(rsa) { KeyId = "k1" }))).Status);
            Assert.True(await server.IsReadyAsync());
        }
        finally
        {
            File.Delete(jwks);
        }
    }

    /// <summary>An HMAC-signed token made by hand: IdentityModel will not sign with a key shorter than the hash, which is the point.</summary>
    private static string Token(byte[] key, string algorithm, string? kid = null)
    {
        string header = Base64UrlEncoder.Encode(kid is null ? $$"""{"alg":"{{algorithm}}","typ":"JWT"}""" : $$"""{"alg":"{{algorithm}}","typ":"JWT","kid":"{{kid}}"}""");
        string payload = Base64UrlEncoder.Encode($$"""{"sub":"mlops","scope":"admin","exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}}}""");
        byte[] signed = Encoding.ASCII.GetBytes($"{header}.{payload}");
        byte[] signature = algorithm switch
        {
            SecurityAlgorithms.HmacSha256 => HMACSHA256.HashData(key, signed),
            SecurityAlgorithms.HmacSha384 => HMACSHA384.HashData(key, signed),
            _ => HMACSHA512.HashData(key, signed),
        };
        return $"{header}.{payload}.{Base64UrlEncoder.Encode(signature)}";
    }

    private static string Token(SecurityKey key, string algorithm = SecurityAlgorithms.RsaSha256) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity([new Claim("sub", "mlops"), new Claim("scope", "admin")]),
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(key, algorithm),
    });

    private static async Task<(HttpStatusCode Status, string Message)> SendAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Index);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? "" : Wire.ErrorOf(body, Wire.Json));
    }
}
