using System.Buffers;
using LowLatency.Engine.Config;
using LowLatency.Features.Serving;
using MessagePack;
using static LowLatency.Host.Protocol.FeatureRequestDecoder;

namespace LowLatency.Host.Protocol;

/// <summary>
/// Feast's feature-server bodies in MessagePack: the same fields as the JSON ones, a map at the top.
/// The structure is read by hand, so that each field is checked and a column's length refused before
/// its values are made; each value is read untyped (MessagePack-CSharp's primitive object
/// formatter: integers, floats, strings, booleans, arrays as object[], timestamps as UTC DateTime),
/// with the limits of untrusted data.
/// </summary>
internal static class FeatureMsgPackDecoder
{
    private static readonly MessagePackSerializerOptions Untrusted = MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    public static GetOnlineFeaturesRequest GetOnlineFeatures(ReadOnlySequence<byte> body) => Read(body, static (ref MessagePackReader reader) =>
    {
        IReadOnlyList<string>? features = null;
        string? service = null;
        IReadOnlyDictionary<string, IReadOnlyList<object?>>? entities = null;
        bool full = false;
        int fields = Top(ref reader, "get-online-features");
        for (int f = 0; f < fields; f++)
        {
            string name = Key(ref reader, "a field name");
            switch (name)
            {
                case "features":
                    features = reader.TryReadNil() ? null : Strings(ref reader, "features");
                    break;
                case "feature_service":
                    service = OptionalString(ref reader, "feature_service");
                    break;
                case "entities":
                    entities = Columns(ref reader, "entities");
                    break;
                case "full_feature_names":
                    full = OptionalBool(ref reader, "full_feature_names");
                    break;
                default:
                    throw Unknown(name, GetFields);
            }
        }

        return new GetOnlineFeaturesRequest
        {
            Features = features,
            FeatureService = service,
            Entities = entities ?? throw Bad("\"entities\" is required: a map of join key → an array of ids, one per row"),
            FullFeatureNames = full,
        };
    });

    public static PushRequest Push(ReadOnlySequence<byte> body) => Read(body, static (ref MessagePackReader reader) =>
    {
        string? source = null;
        IReadOnlyDictionary<string, IReadOnlyList<object?>>? df = null;
        string to = "online";
        int fields = Top(ref reader, "push");
        for (int f = 0; f < fields; f++)
        {
            string name = Key(ref reader, "a field name");
            switch (name)
            {
                case "push_source_name":
                    source = OptionalString(ref reader, "push_source_name");
                    break;
                case "df":
                    df = Columns(ref reader, "df");
                    break;
                case "to":
                    to = OptionalString(ref reader, "to") ?? "online";
                    break;
                case "allow_registry_cache" or "transform_on_write":
                    OptionalBool(ref reader, name);
                    break;
                default:
                    throw Unknown(name, PushFields);
            }
        }

        return new PushRequest
        {
            PushSourceName = source ?? throw Bad("\"push_source_name\" is required"),
            Df = df ?? throw Bad("\"df\" is required: a map of column → an array of values, one per row"),
            To = to,
        };
    });

    private delegate T Reading<T>(ref MessagePackReader reader);

    private static T Read<T>(ReadOnlySequence<byte> body, Reading<T> read)
    {
        if (body.IsEmpty)
        {
            throw Bad("the request body is empty: expected a MessagePack map");
        }

        var reader = new MessagePackReader(body);
        try
        {
            var request = read(ref reader);
            return reader.End ? request : throw Bad($"malformed MessagePack body: {reader.Sequence.Length - reader.Consumed} bytes follow the request's map");
        }
        catch (MessagePackSerializationException e)
        {
            throw Bad("malformed MessagePack body: " + Innermost(e).Message);
        }
        catch (EndOfStreamException)
        {
            throw Bad("malformed MessagePack body: it ends in the middle of a value");
        }
    }

    // The formatter wraps the reader's own complaint ("Unexpected msgpack code ...") in its own.
    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    private static int Top(ref MessagePackReader reader, string route) =>
        reader.NextMessagePackType == MessagePackType.Map ? reader.ReadMapHeader() : throw Bad($"the body must be a MessagePack map (a {route} request), not {Kind(ref reader)}");

    private static string Key(ref MessagePackReader reader, string what) =>
        reader.NextMessagePackType == MessagePackType.String ? reader.ReadString()! : throw Bad($"{what} must be a string, not {Kind(ref reader)}");

    private static List<string> Strings(ref MessagePackReader reader, string field)
    {
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            throw Bad($"\"{field}\" must be an array of strings, not {Kind(ref reader)}");
        }

        int n = CheckNames(field, reader.ReadArrayHeader());
        var list = new List<string>(n);
        for (int i = 0; i < n; i++)
        {
            list.Add(Key(ref reader, $"\"{field}\"[{i}]"));
        }

        return list;
    }

    private static string? OptionalString(ref MessagePackReader reader, string field) => reader.NextMessagePackType switch
    {
        MessagePackType.String => reader.ReadString(),
        MessagePackType.Nil => reader.ReadString(),
        _ => throw Bad($"\"{field}\" must be a string, not {Kind(ref reader)}"),
    };

    private static bool OptionalBool(ref MessagePackReader reader, string field) => reader.NextMessagePackType switch
    {
        MessagePackType.Boolean => reader.ReadBoolean(),
        MessagePackType.Nil => !reader.TryReadNil(),
        _ => throw Bad($"\"{field}\" must be true or false, not {Kind(ref reader)}"),
    };

    private static Dictionary<string, IReadOnlyList<object?>> Columns(ref MessagePackReader reader, string field)
    {
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            throw Bad($"\"{field}\" must be a map of column → array of values, not {Kind(ref reader)}");
        }

        int n = CheckNames(field, reader.ReadMapHeader());
        var columns = new Dictionary<string, IReadOnlyList<object?>>(n, StringComparer.Ordinal);
        for (int c = 0; c < n; c++)
        {
            string name = Key(ref reader, $"a column name of \"{field}\"");
            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                throw Bad($"\"{field}\".{ClientText.Quoted(name)} must be an array of values, one per row, not {Kind(ref reader)}");
            }

            var values = new object?[CheckRows(field, name, reader.ReadArrayHeader())];
            for (int r = 0; r < values.Length; r++)
            {
                values[r] = MessagePackSerializer.Deserialize<object?>(ref reader, Untrusted);
            }

            if (!columns.TryAdd(name, values))
            {
                throw Bad($"\"{field}\".{ClientText.Quoted(name)} is given twice");
            }
        }

        return columns;
    }

    private static string Kind(ref MessagePackReader reader) => reader.NextMessagePackType switch
    {
        MessagePackType.Map => "a map",
        MessagePackType.Array => "an array",
        MessagePackType.String => "a string",
        MessagePackType.Integer or MessagePackType.Float => "a number",
        MessagePackType.Boolean => "a boolean",
        MessagePackType.Binary => "a bin",
        MessagePackType.Extension => "an extension",
        MessagePackType.Nil => "nil",
        _ => throw Bad($"malformed MessagePack body: the byte 0x{reader.NextCode:X2} at {reader.Consumed} starts no value"),
    };
}
