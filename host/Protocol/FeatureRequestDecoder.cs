using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Features.Serving;

namespace LowLatency.Host.Protocol;

/// <summary>
/// The bodies of Feast's feature-server routes, in JSON or MessagePack, as the plain objects
/// <see cref="FeatureServer"/> takes: JSON values stay <see cref="JsonElement"/>s of a document the
/// caller disposes once the operation is over; MessagePack values are read untyped (CLR numbers,
/// strings, arrays). Fields are Feast's; a field Feast does not define is refused, naming it.
/// A malformed body or a field of the wrong kind is a <see cref="FeatureServerException"/> of kind
/// <see cref="FeatureErrorKind.BadRequest"/>, as the feature server's own refusals.
/// </summary>
internal static class FeatureRequestDecoder
{
    /// <summary>
    /// Columns (entity join keys, push columns) and feature references one request may name. A
    /// column longer than <see cref="FeatureServer.MaxRows"/> is refused before its values are read,
    /// so a large body cannot make the server box more values than a request may use.
    /// </summary>
    public const int MaxNames = 4096;

    public const string GetFields = "features, feature_service, entities, full_feature_names";

    public const string PushFields = "push_source_name, df, to (and Feast's allow_registry_cache, transform_on_write, ignored)";

    public static GetOnlineFeaturesRequest GetOnlineFeatures(WireFormat format, ReadOnlySequence<byte> body, out JsonDocument? document)
    {
        document = null;
        if (format == WireFormat.MsgPack)
        {
            return FeatureMsgPackDecoder.GetOnlineFeatures(body);
        }

        document = Parse(body);
        try
        {
            return FeatureJsonDecoder.GetOnlineFeatures(document.RootElement);
        }
        catch
        {
            document.Dispose();
            document = null;
            throw;
        }
    }

    public static PushRequest Push(WireFormat format, ReadOnlySequence<byte> body, out JsonDocument? document)
    {
        document = null;
        if (format == WireFormat.MsgPack)
        {
            return FeatureMsgPackDecoder.Push(body);
        }

        document = Parse(body);
        try
        {
            return FeatureJsonDecoder.Push(document.RootElement);
        }
        catch
        {
            document.Dispose();
            document = null;
            throw;
        }
    }

    private static JsonDocument Parse(ReadOnlySequence<byte> body)
    {
        if (body.IsEmpty)
        {
            throw Bad("the request body is empty: expected a JSON object");
        }

        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw Bad("malformed JSON body: " + e.Message);
        }
    }

    /// <summary>A column's length, refused past <see cref="FeatureServer.MaxRows"/> before anything is made for it.</summary>
    public static int CheckRows(string field, string column, int rows) =>
        rows <= FeatureServer.MaxRows ? rows : throw Bad($"\"{field}\".{ClientText.Quoted(column)} holds {rows} values; {FeatureServer.MaxRows} rows at most");

    public static int CheckNames(string field, int count) =>
        count <= MaxNames ? count : throw Bad($"\"{field}\" names {count} entries; {MaxNames} at most");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static FeatureServerException Unknown(string name, string fields) =>
        Bad($"unknown field {ClientText.Quoted(name)}; the request has {fields}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static FeatureServerException Bad(string message) => new(FeatureErrorKind.BadRequest, message);
}
