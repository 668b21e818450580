using System.Security.Claims;
using System.Text;
using LowLatency.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Empty and ambiguous credentials: an empty key in the settings stops start-up, and no empty,
/// blank or repeated credential a client sends is ever a match.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class EmptyCredentialTests
{
    private const string AdminKey = "admin-key-4f1c9e2b7a";
    private const string InferKey = "infer-key-8d3a6b0c5e";
    private const string SigningKey = "c2lnbmluZy1rZXktb2YtZXhhY3RseS10aGlydHktdHdv"; // 33 bytes

    private static readonly string[] Keys =
    [
        "--LowLatency:Auth:ApiKeys:0:Key=" + AdminKey, "--LowLatency:Auth:ApiKeys:0:Subject=mlops", "--LowLatency:Auth:ApiKeys:0:Scopes:0=admin",
        "--LowLatency:Auth:ApiKeys:1:Key=" + InferKey, "--LowLatency:Auth:ApiKeys:1:Subject=ads", "--LowLatency:Auth:ApiKeys:1:Scopes:0=infer:*",
        "--LowLatency:Auth:Jwt:SigningKey=" + SigningKey,
    ];

    [Fact]
    public async Task An_api_key_from_an_unset_environment_variable_stops_start_up_naming_the_setting()
    {
        // As a deployment that templates LowLatency__Auth__ApiKeys__0__Key from a variable that is not set.
        var environment = new Dictionary<string, string>
        {
            ["LowLatency__Auth__ApiKeys__0__Key"] = "",
            ["LowLatency__Auth__ApiKeys__0__Subject"] = "mlops",
            ["LowLatency__Auth__ApiKeys__0__Scopes__0"] = "admin",
        };
        string error = await HostileStart.AssertRefusedAsync([], "LowLatency:Auth:ApiKeys:0:Key", environment);
        Assert.Contains("empty", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Q7")]
    [InlineData("fifteen-chars!!")]
    [InlineData("                    ")]
    [InlineData(" padded-key-4f1c9e2b7a")]
    [InlineData("padded-key-4f1c9e2b7a\t")]
    [InlineData("key-with-a-\u0001-4f1c9e2b7a")]
    public async Task A_short_blank_or_unsendable_api_key_stops_start_up_without_printing_it(string key)
    {
        string error = await HostileStart.AssertRefusedAsync(["--LowLatency:Auth:ApiKeys:0:Key=" + key, "--LowLatency:Auth:ApiKeys:0:Subject=s"], "LowLatency:Auth:ApiKeys:0:Key");
        if (key.Trim().Length > 0)
        {
            Assert.DoesNotContain(key.Trim(), error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Empty_blank_and_repeated_credentials_get_401_and_the_server_stays_ready()
    {
        await using var server = await HostileServer.StartAsync(Keys);
        string[] attacks =
        [
            "X-Api-Key: \r\n",
            "X-Api-Key:\r\n",
            "X-Api-Key:    \r\n",
            "Authorization: Bearer \r\n",
            "Authorization: Bearer\r\n",
            "Authorization: \r\n",
            "Authorization: Bearer  \r\n",
            // Two keys, either of them good: which one would speak for the request is ambiguous.
            $"X-Api-Key: {AdminKey}\r\nX-Api-Key: guess\r\n",
            $"X-Api-Key: guess\r\nX-Api-Key: {AdminKey}\r\n",
            $"X-Api-Key: {InferKey}\r\nX-Api-Key: {AdminKey}\r\n",
            $"X-Api-Key: {AdminKey}\r\nX-Api-Key: {AdminKey}\r\n",
            $"X-Api-Key: {AdminKey}\r\nX-Api-Key: \r\n",
            $"X-Api-Key: \r\nX-Api-Key: {AdminKey}\r\n",
            $"Authorization: Bearer {AdminToken()}\r\nAuthorization: Bearer {AdminToken()}\r\n",
            $"Authorization: Bearer {AdminToken()}\r\nX-Api-Key: \r\n",
            // An unsigned token claiming admin.
            "Authorization: Bearer " + UnsignedToken() + "\r\n",
        ];
        foreach (var headers in attacks)
        {
            var answer = await server.SendRawAsync(Encoding.ASCII.GetBytes($"POST /v2/repository/models/text-encoder/unload HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"), TimeSpan.FromSeconds(10));
            Assert.True(HostileServer.StatusOf(answer) == 401, $"{headers.Trim()}: {answer}");
        }

        Assert.True(await server.IsReadyAsync());
        var token = await server.SendRawAsync(Encoding.ASCII.GetBytes($"POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {AdminToken()}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), TimeSpan.FromSeconds(10));
        Assert.Equal(200, HostileServer.StatusOf(token));
        var index = await server.SendRawAsync(Encoding.ASCII.GetBytes($"POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nX-Api-Key: {AdminKey}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), TimeSpan.FromSeconds(10));
        Assert.Equal(200, HostileServer.StatusOf(index));

        // None of the attempts unloaded the model.
        var ready = await server.SendRawAsync(Encoding.ASCII.GetBytes($"GET /v2/models/text-encoder/ready HTTP/1.1\r\nHost: x\r\nX-Api-Key: {InferKey}\r\nConnection: close\r\n\r\n"), TimeSpan.FromSeconds(10));
        Assert.Equal(200, HostileServer.StatusOf(ready));
    }

    private static string AdminToken() => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity([new Claim("sub", "mlops"), new Claim("scope", "admin")]),
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(SigningKey)), SecurityAlgorithms.HmacSha256),
    });

    private static string UnsignedToken()
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        long exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        return Part("""{"alg":"none","typ":"JWT"}""") + "." + Part($$"""{"sub":"mallory","scope":"admin","exp":{{exp}}}""") + ".";
    }
}
