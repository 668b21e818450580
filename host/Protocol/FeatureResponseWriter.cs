using System.Buffers;
using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Features.Serving;
using MessagePack;

namespace LowLatency.Host.Protocol;

/// <summary>
/// The feature server's answers, as Feast's Python server writes them (protobuf's JSON of
/// <c>GetOnlineFeaturesResponse</c>): <c>{"metadata": {"feature_names": [...]}, "results": [{"values",
/// "statuses", "event_timestamps"}, ...]}</c>, one result per name, statuses by their enum names,
/// event times as RFC 3339 text in UTC. MessagePack answers hold the same document.
/// </summary>
internal static class FeatureResponseWriter
{
    public static void WriteOnlineFeatures(IBufferWriter<byte> body, WireFormat format, OnlineFeaturesResponse answer)
    {
        if (format == WireFormat.MsgPack)
        {
            WriteMsgPack(body, answer);
            return;
        }

        using var w = new Utf8JsonWriter(body, MinimalJsonEncoder.WriterOptions);
        w.WriteStartObject();
        w.WriteStartObject("metadata"u8);
        w.WriteStartArray("feature_names"u8);
        foreach (string name in answer.FeatureNames)
        {
            w.WriteStringValue(name);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("results"u8);
        Span<byte> time = stackalloc byte[FeatureTimestamps.MaxLength];
        foreach (var column in answer.Results)
        {
            w.WriteStartObject();
            w.WriteStartArray("values"u8);
            foreach (var value in column.Values)
            {
                WriteJsonValue(w, value);
            }

            w.WriteEndArray();
            w.WriteStartArray("statuses"u8);
            foreach (var status in column.Statuses)
            {
                w.WriteStringValue(StatusName(status));
            }

            w.WriteEndArray();
            w.WriteStartArray("event_timestamps"u8);
            foreach (var t in column.EventTimestamps)
            {
                w.WriteStringValue(time[..FeatureTimestamps.Format(t, time)]);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>What a push did: not Feast's answer (its body is <c>null</c>), which clients do not read.</summary>
    public static void WritePush(IBufferWriter<byte> body, WireFormat format, PushResult result)
    {
        if (format == WireFormat.MsgPack)
        {
            var m = new MessagePackWriter(body);
            m.WriteMapHeader(2);
            m.WriteString("written"u8);
            m.Write(result.Written);
            m.WriteString("skipped"u8);
            m.Write(result.Skipped);
            m.Flush();
            return;
        }

        using var w = new Utf8JsonWriter(body, MinimalJsonEncoder.WriterOptions);
        w.WriteStartObject();
        w.WriteNumber("written"u8, result.Written);
        w.WriteNumber("skipped"u8, result.Skipped);
        w.WriteEndObject();
    }

    /// <summary>Feast's <c>FieldStatus</c> names, as protobuf's JSON writes an enum.</summary>
    public static ReadOnlySpan<byte> StatusName(FieldStatus status) => status switch
    {
        FieldStatus.Present => "PRESENT"u8,
        FieldStatus.NullValue => "NULL_VALUE"u8,
        FieldStatus.NotFound => "NOT_FOUND"u8,
        FieldStatus.OutsideMaxAge => "OUTSIDE_MAX_AGE"u8,
        _ => "INVALID"u8,
    };

    private static void WriteMsgPack(IBufferWriter<byte> body, OnlineFeaturesResponse answer)
    {
        var m = new MessagePackWriter(body);
        m.WriteMapHeader(2);
        m.WriteString("metadata"u8);
        m.WriteMapHeader(1);
        m.WriteString("feature_names"u8);
        m.WriteArrayHeader(answer.FeatureNames.Count);
        foreach (string name in answer.FeatureNames)
        {
            m.Write(name);
        }

        m.WriteString("results"u8);
        m.WriteArrayHeader(answer.Results.Count);
        // Not on the stack: the writer, a ref struct over the caller's buffer, may not be handed a stack span.
        var time = new byte[FeatureTimestamps.MaxLength];
        foreach (var column in answer.Results)
        {
            m.WriteMapHeader(3);
            m.WriteString("values"u8);
            m.WriteArrayHeader(column.Values.Count);
            foreach (var value in column.Values)
            {
                WriteMsgPackValue(ref m, value);
            }

            m.WriteString("statuses"u8);
            m.WriteArrayHeader(column.Statuses.Count);
            foreach (var status in column.Statuses)
            {
                m.WriteString(StatusName(status));
            }

            m.WriteString("event_timestamps"u8);
            m.WriteArrayHeader(column.EventTimestamps.Count);
            foreach (var t in column.EventTimestamps)
            {
                m.WriteString(time.AsSpan(0, FeatureTimestamps.Format(t, time)));
            }
        }

        m.Flush();
    }

    // The values the feature server answers: ids (long, string), and bool, long, float or double, or a flat array of those.
    private static void WriteJsonValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null:
                w.WriteNullValue();
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case float f:
                if (float.IsFinite(f))
                {
                    w.WriteNumberValue(f);
                }
                else
                {
                    w.WriteStringValue(NonFinite(f));
                }

                break;
            case double d:
                if (double.IsFinite(d))
                {
                    w.WriteNumberValue(d);
                }
                else
                {
                    w.WriteStringValue(NonFinite(d));
                }

                break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list)
                {
                    WriteJsonValue(w, item);
                }

                w.WriteEndArray();
                break;
            default:
                throw new InvalidOperationException($"the feature server answered a {value.GetType().Name}, which has no JSON form here");
        }
    }

    private static void WriteMsgPackValue(ref MessagePackWriter m, object? value)
    {
        switch (value)
        {
            case null:
                m.WriteNil();
                break;
            case string s:
                m.Write(s);
                break;
            case bool b:
                m.Write(b);
                break;
            case long l:
                m.Write(l);
                break;
            case float f:
                m.Write(f);
                break;
            case double d:
                m.Write(d);
                break;
            case Array array:
                m.WriteArrayHeader(array.Length);
                foreach (var item in array)
                {
                    WriteMsgPackValue(ref m, item);
                }

                break;
            default:
                throw new InvalidOperationException($"the feature server answered a {value.GetType().Name}, which has no MessagePack form here");
        }
    }

    // Protobuf's JSON for a float that is not a number: the text, as Feast's answers carry it.
    private static string NonFinite(double value) =>
        double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}
