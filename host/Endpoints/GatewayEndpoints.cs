using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Gateway;
using LowLatency.Gateway.Weights;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// The gateway's admin routes (scope <c>admin</c> when authentication is on): the aliases, one
/// alias's weight table, and an explicit reload of <c>aliases.json</c> (docs/gateway.md#admin-route).
/// </summary>
internal static class GatewayEndpoints
{
    public static void Map(WebApplication app)
    {
        var group = app.MapGroup("/v2/gateway").AddEndpointFilter(async (context, next) =>
        {
            var refusal = await Access.AdminAsync(context.HttpContext);
            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(context.HttpContext, WireFormat.Json, refusal);
                return Results.Empty;
            }

            return await next(context);
        });
        group.MapGet("", ListAsync);
        group.MapGet("/{alias}", TableAsync);
        group.MapPost("/reload", ReloadAsync);
    }

    private static async Task ListAsync(HttpContext ctx, ModelGateway gateway)
    {
        ctx.Response.ContentType = WireFormats.JsonType;
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, MinimalJsonEncoder.WriterOptions);
        WriteAliases(w, gateway);
    }

    private static async Task TableAsync(HttpContext ctx, ModelGateway gateway, string alias)
    {
        if (!gateway.TryGet(alias, out var router))
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status404NotFound, $"unknown alias {ClientText.Quoted(alias)}");
            return;
        }

        ctx.Response.ContentType = WireFormats.JsonType;
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, MinimalJsonEncoder.WriterOptions);
        w.WriteStartObject();
        w.WriteString("alias", router.Definition.Name);
        w.WriteStartArray("backends");
        foreach (var row in router.Rows())
        {
            w.WriteStartObject();
            w.WriteString("name", row.Name);
            w.WriteString("model", row.Model);
            if (row.Url is { } url)
            {
                w.WriteString("url", url.AbsoluteUri);
            }

            if (row.Version is { } v)
            {
                w.WriteNumber("version", v);
            }

            w.WriteString("state", StateName(row.State));
            w.WriteNumber("base_weight", row.BaseWeight);
            w.WriteNumber("weight", Math.Round(row.Weight, 3));
            w.WriteNumber("share", Math.Round(row.Share, 4));
            w.WriteNumber("latency_us", Math.Round(row.LatencyUs, 1));
            w.WriteNumber("error_rate", Math.Round(row.ErrorRate, 4));
            w.WriteNumber("answers", row.Answers);
            w.WriteNumber("errors", row.Errors);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static async Task ReloadAsync(HttpContext ctx, ModelGateway gateway)
    {
        if (gateway.Reload() is { } error)
        {
            await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status400BadRequest, error);
            return;
        }

        ctx.Response.ContentType = WireFormats.JsonType;
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, MinimalJsonEncoder.WriterOptions);
        WriteAliases(w, gateway);
    }

    /// <summary><c>{"aliases":[…]}</c>: the names served now.</summary>
    internal static void WriteAliases(Utf8JsonWriter w, ModelGateway gateway)
    {
        w.WriteStartObject();
        w.WriteStartArray("aliases");
        foreach (var alias in gateway.Aliases)
        {
            w.WriteStringValue(alias.Definition.Name);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>As the table and the metrics' documentation name the states.</summary>
    internal static string StateName(BackendState state) => state switch
    {
        BackendState.Closed => "closed",
        BackendState.Open => "open",
        BackendState.HalfOpen => "half-open",
        _ => "recovering",
    };
}
