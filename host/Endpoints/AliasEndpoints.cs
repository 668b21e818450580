using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Gateway;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// The gateway's alias file through the repository API (docs/gateway.md#the-alias-file): read as it
/// is stored, replaced whole, or one alias set or removed. In the repository group, so with its admin scope, body budget and
/// 1 MiB cap.
/// </summary>
internal static class AliasEndpoints
{
    private static readonly byte[] NoAliases = """{"aliases":{}}"""u8.ToArray();

    public static void Map(RouteGroupBuilder repository)
    {
        repository.MapGet("/aliases", GetAsync);
        repository.MapPut("/aliases", PutAsync);
        repository.MapPut("/aliases/{alias}", PutAliasAsync);
        repository.MapDelete("/aliases/{alias}", DeleteAliasAsync);
    }

    private static async Task GetAsync(HttpContext ctx, ModelGateway gateway)
    {
        byte[]? file;
        try
        {
            file = gateway.StoredFile();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status500InternalServerError, $"the alias file cannot be read: {e.Message}");
            return;
        }

        ctx.Response.ContentType = WireFormats.JsonType;
        ctx.Response.ContentLength = (file ?? NoAliases).Length;
        await ctx.Response.Body.WriteAsync(file ?? NoAliases, ctx.RequestAborted);
    }

    private static async Task PutAsync(HttpContext ctx, ModelGateway gateway)
    {
        using var body = await RepositoryEndpoints.ReadAsync(ctx, parse: false);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        if (body.Bytes is null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, "expected the whole alias file as the body: {\"aliases\": {\"<alias>\": {\"backends\": [...]}}} ({\"aliases\": {}} for none)");
            return;
        }

        await AnswerAsync(ctx, gateway, () => gateway.Replace(body.Bytes));
    }

    private static async Task PutAliasAsync(HttpContext ctx, ModelGateway gateway, string alias)
    {
        using var body = await RepositoryEndpoints.ReadAsync(ctx, parse: false);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        if (body.Bytes is null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, "expected the alias's definition as the body: {\"backends\": [...]}, as an alias of the alias file's \"aliases\"");
            return;
        }

        await AnswerAsync(ctx, gateway, () => gateway.ReplaceAlias(alias, body.Bytes, out _));
    }

    private static async Task DeleteAliasAsync(HttpContext ctx, ModelGateway gateway, string alias)
    {
        using var body = await RepositoryEndpoints.ReadAsync(ctx, parse: false);
        if (body.Error is not null)
        {
            await body.RefuseAsync(ctx);
            return;
        }

        bool found = true;
        await AnswerAsync(ctx, gateway, () => gateway.ReplaceAlias(alias, null, out found), () => found);
    }

    /// <summary>Runs the change; answers 200 with the aliases served, its error (404 when <paramref name="found"/> says the alias was not there), or 500 when the file cannot be written.</summary>
    private static async Task AnswerAsync(HttpContext ctx, ModelGateway gateway, Func<string?> change, Func<bool>? found = null)
    {
        string? error;
        try
        {
            error = change();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status500InternalServerError, $"the alias file cannot be written, the aliases in force are unchanged: {e.Message}");
            return;
        }

        if (error is not null)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, found is not null && !found() ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest, error);
            return;
        }

        ctx.Response.ContentType = WireFormats.JsonType;
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, MinimalJsonEncoder.WriterOptions);
        GatewayEndpoints.WriteAliases(w, gateway);
    }
}
