using System.Buffers;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Protocol;
using Microsoft.Extensions.Primitives;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// An alias's rules, once the body is read and before it is decoded: the body is scanned for what the
/// rules look at (<see cref="RuleScan"/>) and, when the first matching rule sends the request to
/// another backend than the weighted choice made at admission, the request is routed there instead
/// (the earlier route released), so that it is decoded once, against the model that runs it.
/// </summary>
internal static class RuleStep
{
    public static void Apply(HttpContext ctx, InferenceEngine engine, WireFormat format, ReadOnlySequence<byte> body, ref Routed routed, ref bool isRouted, ref BackendCall call, ref string counted)
    {
        long jsonLength = format == WireFormat.Json ? JsonLength(ctx.Request.Headers[BinaryTensorData.HeaderName], body.Length) : -1;
        Apply(ctx, engine, RuleScan.Matches(call.Router.Definition.Rules, format, body, jsonLength), RemoteFace.Http, ref routed, ref isRouted, ref call, ref counted);
    }

    /// <summary>Routes to the backend of the first rule in <paramref name="matched"/> that takes traffic and that <paramref name="face"/> can reach.</summary>
    public static void Apply(HttpContext ctx, InferenceEngine engine, ulong matched, RemoteFace face, ref Routed routed, ref bool isRouted, ref BackendCall call, ref string counted, bool nameBackend = true)
    {
        var alias = call.Router;
        int target = alias.RuleTarget(matched, face);
        if (target < 0 || target == call.BackendIndex)
        {
            return;
        }

        var key = ctx.Request.Headers[InferenceEndpoint.RoutingKeyHeader];
        if (alias.RouteTo(engine, target, key.Count > 0 ? key[0] : null, out var next, out var nextCall, out _) != InferenceStatus.Ok)
        {
            // The rule's backend cannot take it now (counted as its error): the weighted choice stands.
            return;
        }

        if (isRouted)
        {
            routed.Release();
        }

        (routed, call) = (next, nextCall);
        (isRouted, counted) = nextCall.IsRemote ? (false, alias.Definition.Name) : (true, next.Version.Config.Name);
        if (nameBackend)
        {
            ctx.Response.Headers[GatewayRoute.BackendHeader] = nextCall.BackendName;
        }
    }

    /// <summary>The JSON's length in a JSON-with-binary-tensors body; -1 for plain JSON or a header the decoder will refuse.</summary>
    private static long JsonLength(StringValues header, long bodyLength) =>
        header.Count == 1 && long.TryParse(header[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) && n <= bodyLength ? n : -1;
}
