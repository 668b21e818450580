using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using LowLatency.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LowLatency.Tests.Security;

/// <summary>Tokens signed by an issuer's private key, checked against its public keys from a JWKS file.</summary>
public sealed class JwksTests
{
    [Fact]
    public async Task Tokens_signed_with_a_key_from_the_jwks_file_are_accepted_and_others_refused()
    {
        using var rsa = RSA.Create(2048);
        using var other = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "issuer-key-1" };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = "issuer-key-1" });
        string jwks = Path.Combine(Path.GetTempPath(), $"ll-jwks-{Guid.NewGuid():N}.json");
        File.WriteAllText(jwks, System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } }));
        try
        {
            var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:Auth:Jwt:JwksFile=" + jwks, "--LowLatency:Auth:Jwt:Audience=lowlatency"]);
            await using var _ = app;
            using var client = new HttpClient { BaseAddress = address };
            await ServerFixture.WaitReadyAsync(client);
            var body = GoldenCase.Load("ctr-ranker", "batch1").Request.ToMsgPack();

            string Token(SecurityKey signingKey, string audience) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Subject = new ClaimsIdentity([new Claim("sub", "ads"), new Claim("scp", "infer:ctr-ranker")]),
                Audience = audience,
                Expires = DateTime.UtcNow.AddMinutes(5),
                SigningCredentials = new SigningCredentials(signingKey, SecurityAlgorithms.RsaSha256),
            });

            async Task<HttpStatusCode> Send(string token)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/ctr-ranker/infer") { Content = ServerFixture.Body(body, Wire.MsgPack) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await client.SendAsync(request);
                return response.StatusCode;
            }

            Assert.Equal(HttpStatusCode.OK, await Send(Token(key, "lowlatency")));
            Assert.Equal(HttpStatusCode.Unauthorized, await Send(Token(new RsaSecurityKey(other) { KeyId = "issuer-key-1" }, "lowlatency")));
            Assert.Equal(HttpStatusCode.Unauthorized, await Send(Token(key, "another-service")));
        }
        finally
        {
            File.Delete(jwks);
        }
    }
}
