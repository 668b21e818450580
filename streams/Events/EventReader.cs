using System.Buffers.Text;
using System.IO.Hashing;
using System.Text;
using LowLatency.Features.Store;

namespace LowLatency.Streams.Events;

/// <summary>
/// Fills an <see cref="EventRecord"/> from an entry's field names and values as bytes, whatever
/// carried them. A field absent or not a number counts as no value for the aggregations over it
/// (SQL's NULL); an entry without a key or an event time, or with one that is not a number, is
/// refused with the reason, for the dead-letter stream.
/// </summary>
public static class EventReader
{
    /// <summary>Event times past this (year 9999) are refused: a row's time is µs in an i64.</summary>
    public const long MaxTimeMs = 253_402_300_799_999;

    public static void Begin(EventRecord e, StreamPosition position)
    {
        e.Clear();
        e.Position = position;
        e.Time = -1;
        e.Key = default;
    }

    /// <summary>Takes one field; returns false when the entry is malformed (with the reason).</summary>
    public static bool Field(EventRecord e, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, ref bool hasKey, out string? problem)
    {
        problem = null;
        var schema = e.Schema;
        if (name.SequenceEqual(schema.KeyField))
        {
            hasKey = true;
            if (schema.StringKeys)
            {
                e.Key = EntityKey.Of(Encoding.UTF8.GetString(value));
                return true;
            }

            if (!Utf8Parser.TryParse(value, out long id, out int used) || used != value.Length)
            {
                problem = "malformed: the key is not an INT64";
                return false;
            }

            e.Key = EntityKey.Of(id);
            return true;
        }

        if (name.SequenceEqual(schema.TimestampField) || name.SequenceEqual(schema.HeartbeatFieldBytes))
        {
            if (!Utf8Parser.TryParse(value, out long time, out int used) || used != value.Length || time < 0 || time > MaxTimeMs)
            {
                problem = "malformed: the event time is not ms since the Unix epoch";
                return false;
            }

            e.Time = time;
            e.IsHeartbeat |= name.SequenceEqual(schema.HeartbeatFieldBytes);
            return true;
        }

        var names = schema.FieldNames;
        for (int i = 0; i < names.Length; i++)
        {
            if (name.SequenceEqual(names[i]))
            {
                e.Present[i] = true;
                e.Hash[i] = XxHash64.HashToUInt64(value);
                e.HasNumber[i] = Utf8Parser.TryParse(value, out double number, out int used) && used == value.Length && double.IsFinite(number);
                e.Number[i] = number;
                var filterFields = schema.FilterFields;
                for (int f = 0; f < filterFields.Length; f++)
                {
                    if (filterFields[f] == i)
                    {
                        e.Matches[f] = value.SequenceEqual(schema.FilterValues[f]);
                    }
                }

                break;
            }
        }

        return true;
    }

    /// <summary>After the last field: whether the entry is an event or a heartbeat, or why not.</summary>
    public static bool End(EventRecord e, bool hasKey, out string? problem)
    {
        problem = null;
        if (e.Time < 0)
        {
            problem = "malformed: no event time";
            return false;
        }

        if (!hasKey && !e.IsHeartbeat)
        {
            problem = "malformed: no key";
            return false;
        }

        return true;
    }
}
