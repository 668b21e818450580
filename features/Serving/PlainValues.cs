using System.Collections;
using System.Globalization;
using System.Text.Json;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Features.Serving;

/// <summary>
/// Between the plain values of the feature server's requests and answers (CLR numbers, strings,
/// arrays, or JSON elements as a JSON reader gives them) and the store's keys and packed rows.
/// </summary>
internal static class PlainValues
{
    public static bool TryEntityKey(object? value, EntityValueType type, out EntityKey key)
    {
        key = default;
        if (type == EntityValueType.String)
        {
            string? text = value switch
            {
                string s => s,
                JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
                _ => null,
            };
            if (text is null || text.Length == 0)
            {
                return false;
            }

            key = EntityKey.Of(text);
            return true;
        }

        if (TryInteger(value, out long id))
        {
            key = EntityKey.Of(id);
            return true;
        }

        return false;
    }

    /// <summary>Writes a feature's value: one element for a scalar, a (flat or nested) list of exactly its elements otherwise.</summary>
    public static bool TryWriteValue(object? value, FeatureDefinition feature, Span<byte> dst)
    {
        int size = feature.DataType.ElementSize();
        if (feature.Shape.Count == 0 && !IsList(value))
        {
            return TryWriteElement(value, feature.DataType, dst[..size]);
        }

        var flat = new List<object?>(feature.ElementCount);
        if (!IsList(value) || !Flatten(value, flat, feature.ElementCount) || flat.Count != feature.ElementCount)
        {
            return false;
        }

        for (int i = 0; i < flat.Count; i++)
        {
            if (!TryWriteElement(flat[i], feature.DataType, dst.Slice(i * size, size)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A feature's value from a packed row: one element, or a flat array of its elements for a feature with a shape.</summary>
    public static object ReadValue(FeatureDefinition feature, ReadOnlySpan<byte> row)
    {
        var src = row.Slice(feature.Offset, feature.ByteSize);
        var type = feature.DataType;
        int size = type.ElementSize();
        if (feature.Shape.Count == 0)
        {
            return FeatureDataTypes.Read(type, src);
        }

        int n = feature.ElementCount;
        switch (type)
        {
            case FeatureDataType.Bool:
                var bools = new bool[n];
                for (int i = 0; i < n; i++)
                {
                    bools[i] = src[i] != 0;
                }

                return bools;
            case FeatureDataType.FP16 or FeatureDataType.BF16 or FeatureDataType.FP32:
                var floats = new float[n];
                for (int i = 0; i < n; i++)
                {
                    floats[i] = (float)FeatureDataTypes.Read(type, src.Slice(i * size, size));
                }

                return floats;
            case FeatureDataType.FP64:
                var doubles = new double[n];
                for (int i = 0; i < n; i++)
                {
                    doubles[i] = (double)FeatureDataTypes.Read(type, src.Slice(i * size, size));
                }

                return doubles;
            default:
                var longs = new long[n];
                for (int i = 0; i < n; i++)
                {
                    longs[i] = (long)FeatureDataTypes.Read(type, src.Slice(i * size, size));
                }

                return longs;
        }
    }

    /// <summary>An event time: DateTimeOffset, DateTime (UTC unless it says otherwise), or ISO 8601 text (UTC unless it has an offset).</summary>
    public static bool TryEventTime(object? value, out long micros)
    {
        DateTimeOffset? time = value switch
        {
            DateTimeOffset d => d,
            DateTime d => d.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(d, TimeSpan.Zero) : new DateTimeOffset(d),
            string s => ParseTime(s),
            JsonElement { ValueKind: JsonValueKind.String } e => ParseTime(e.GetString()!),
            _ => null,
        };
        micros = time is { } t ? EventTime.ToMicros(t) : -1;
        return micros >= 0;
    }

    /// <summary>A value as a message quotes it: its text, cut at 64 characters.</summary>
    public static string Describe(object? value)
    {
        string text = value switch
        {
            null => "null",
            string s => "\"" + s + "\"",
            JsonElement e => e.GetRawText(),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.GetType().Name,
        };
        return text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
    }

    private static DateTimeOffset? ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static bool TryWriteElement(object? value, FeatureDataType type, Span<byte> dst) => value switch
    {
        bool b => FeatureDataTypes.TryWrite(b, type, dst),
        double d => FeatureDataTypes.TryWrite(d, type, dst),
        float f => FeatureDataTypes.TryWrite(f, type, dst),
        Half h => FeatureDataTypes.TryWrite((double)h, type, dst),
        decimal m => FeatureDataTypes.TryWrite((double)m, type, dst),
        ulong u => u <= long.MaxValue && FeatureDataTypes.TryWrite((long)u, type, dst),
        JsonElement { ValueKind: JsonValueKind.True or JsonValueKind.False } e => FeatureDataTypes.TryWrite(e.GetBoolean(), type, dst),
        JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out long l) => FeatureDataTypes.TryWrite(l, type, dst),
        JsonElement { ValueKind: JsonValueKind.Number } e => FeatureDataTypes.TryWrite(e.GetDouble(), type, dst),
        _ => TryInteger(value, out long i) && FeatureDataTypes.TryWrite(i, type, dst),
    };

    private static bool TryInteger(object? value, out long result)
    {
        switch (value)
        {
            case long l:
                result = l;
                return true;
            case int i:
                result = i;
                return true;
            case short s:
                result = s;
                return true;
            case sbyte sb:
                result = sb;
                return true;
            case byte b:
                result = b;
                return true;
            case ushort us:
                result = us;
                return true;
            case uint ui:
                result = ui;
                return true;
            case ulong ul when ul <= long.MaxValue:
                result = (long)ul;
                return true;
            case JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out long j):
                result = j;
                return true;
            default:
                result = 0;
                return false;
        }
    }

    private static bool IsList(object? value) =>
        value is JsonElement { ValueKind: JsonValueKind.Array } || (value is IEnumerable && value is not string);

    // Row-major, nested lists flattened; stops once more than the expected count was seen.
    private static bool Flatten(object? value, List<object?> flat, int limit)
    {
        if (value is JsonElement { ValueKind: JsonValueKind.Array } array)
        {
            foreach (var item in array.EnumerateArray())
            {
                if (!Flatten(item, flat, limit))
                {
                    return false;
                }
            }

            return true;
        }

        if (value is IEnumerable list and not string)
        {
            foreach (var item in list)
            {
                if (!Flatten(item, flat, limit))
                {
                    return false;
                }
            }

            return true;
        }

        flat.Add(value);
        return flat.Count <= limit;
    }
}
