using System.Buffers;
using System.Text.Json;
using LowLatency.Gateway.Config;
using MessagePack;

namespace LowLatency.Host.Protocol;

/// <summary>
/// Which of an alias's rules a request body satisfies (a bit per rule), read from the body as it
/// came, before it is decoded: the backend it goes to, and so the model it is decoded against, depends
/// on the answer. One forward pass over the envelope (top-level <c>parameters</c> and each input's
/// <c>name</c> and <c>shape</c>; tensor data skipped, not read), names and values compared as UTF-8,
/// nothing allocated. A body that cannot be read matches no rule: the decoder refuses it with its own
/// 400 naming what is wrong.
/// </summary>
internal static class RuleScan
{
    internal const int MaxDims = 16;

    private static ReadOnlySpan<byte> Parameters => "parameters"u8;

    private static ReadOnlySpan<byte> Inputs => "inputs"u8;

    private static ReadOnlySpan<byte> NameKey => "name"u8;

    private static ReadOnlySpan<byte> ShapeKey => "shape"u8;

    public static ulong Matches(IReadOnlyList<RouteRule> rules, WireFormat format, ReadOnlySequence<byte> body, long jsonLength)
    {
        try
        {
            return format == WireFormat.MsgPack ? MsgPack(rules, body) : Json(rules, jsonLength >= 0 ? body.Slice(0, jsonLength) : body);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentOutOfRangeException)
        {
            return 0;
        }
    }

    private static ulong Json(IReadOnlyList<RouteRule> rules, ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        ulong matched = 0;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return 0;
        }

        Span<long> shape = stackalloc long[MaxDims];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Parameters))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    ulong named = Named(rules, RuleSubject.Parameter, ref reader);
                    reader.Read();
                    for (int i = 0; named != 0 && i < rules.Count; i++)
                    {
                        if ((named & (1UL << i)) != 0 && JsonEquals(rules[i], ref reader))
                        {
                            matched |= 1UL << i;
                        }
                    }

                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals(Inputs))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    ulong named = 0;
                    int dims = -1;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals(NameKey))
                        {
                            reader.Read();
                            named = reader.TokenType == JsonTokenType.String ? Named(rules, RuleSubject.Input, ref reader) : 0;
                        }
                        else if (reader.ValueTextEquals(ShapeKey))
                        {
                            reader.Read();
                            dims = JsonShape(ref reader, shape);
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }

                    matched |= InputMatches(rules, named, shape, dims);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return matched;
    }

    /// <summary>The rules on <paramref name="subject"/> whose name is the current token's text.</summary>
    private static ulong Named(IReadOnlyList<RouteRule> rules, RuleSubject subject, ref Utf8JsonReader reader)
    {
        ulong named = 0;
        for (int i = 0; i < rules.Count; i++)
        {
            if (rules[i].Subject == subject && reader.ValueTextEquals(rules[i].NameUtf8))
            {
                named |= 1UL << i;
            }
        }

        return named;
    }

    private static bool JsonEquals(RouteRule rule, ref Utf8JsonReader reader) => rule.ValueKind switch
    {
        RuleValueKind.String => reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(rule.StringUtf8),
        RuleValueKind.Number => reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double d) && d == rule.Number,
        _ => reader.TokenType == (rule.Boolean ? JsonTokenType.True : JsonTokenType.False),
    };

    /// <summary>Reads a shape array into <paramref name="shape"/>; its rank, or -1 when it is not an array of at most 16 integers.</summary>
    private static int JsonShape(ref Utf8JsonReader reader, scoped Span<long> shape)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return -1;
        }

        int n = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (n == shape.Length || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out shape[n]))
            {
                while (reader.TokenType != JsonTokenType.EndArray && reader.Read())
                {
                }

                return -1;
            }

            n++;
        }

        return n;
    }

    internal static ulong InputMatches(IReadOnlyList<RouteRule> rules, ulong named, ReadOnlySpan<long> shape, int dims)
    {
        ulong matched = 0;
        for (int i = 0; dims >= 0 && named != 0 && i < rules.Count; i++)
        {
            if ((named & (1UL << i)) != 0 && rules[i].Matches(shape[..dims]))
            {
                matched |= 1UL << i;
            }
        }

        return matched;
    }

    private static ulong MsgPack(IReadOnlyList<RouteRule> rules, ReadOnlySequence<byte> body)
    {
        var reader = new MessagePackReader(body);
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            return 0;
        }

        ulong matched = 0;
        Span<long> shape = stackalloc long[MaxDims];
        int fields = reader.ReadMapHeader();
        for (int f = 0; f < fields; f++)
        {
            if (reader.NextMessagePackType != MessagePackType.String)
            {
                reader.Skip();
                reader.Skip();
                continue;
            }

            var key = reader.ReadStringSequence()!.Value;
            if (Is(key, Parameters) && reader.NextMessagePackType == MessagePackType.Map)
            {
                int n = reader.ReadMapHeader();
                for (int p = 0; p < n; p++)
                {
                    ulong named = reader.NextMessagePackType == MessagePackType.String ? Named(rules, RuleSubject.Parameter, reader.ReadStringSequence()!.Value) : Skipped(ref reader);
                    for (int i = 0; named != 0 && i < rules.Count; i++)
                    {
                        if ((named & (1UL << i)) != 0 && MsgPackEquals(rules[i], reader))
                        {
                            matched |= 1UL << i;
                        }
                    }

                    reader.Skip();
                }
            }
            else if (Is(key, Inputs) && reader.NextMessagePackType == MessagePackType.Array)
            {
                int count = reader.ReadArrayHeader();
                for (int t = 0; t < count; t++)
                {
                    if (reader.NextMessagePackType != MessagePackType.Map)
                    {
                        reader.Skip();
                        continue;
                    }

                    ulong named = 0;
                    int dims = -1;
                    int entries = reader.ReadMapHeader();
                    for (int k = 0; k < entries; k++)
                    {
                        if (reader.NextMessagePackType != MessagePackType.String)
                        {
                            reader.Skip();
                            reader.Skip();
                            continue;
                        }

                        var entry = reader.ReadStringSequence()!.Value;
                        if (Is(entry, NameKey) && reader.NextMessagePackType == MessagePackType.String)
                        {
                            named = Named(rules, RuleSubject.Input, reader.ReadStringSequence()!.Value);
                        }
                        else if (Is(entry, ShapeKey) && reader.NextMessagePackType == MessagePackType.Array)
                        {
                            dims = MsgPackShape(ref reader, shape);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }

                    matched |= InputMatches(rules, named, shape, dims);
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return matched;
    }

    /// <summary>A key that is not a string: skipped, naming no rule.</summary>
    private static ulong Skipped(ref MessagePackReader reader)
    {
        reader.Skip();
        return 0;
    }

    internal static ulong Named(IReadOnlyList<RouteRule> rules, RuleSubject subject, ReadOnlySequence<byte> name)
    {
        ulong named = 0;
        for (int i = 0; i < rules.Count; i++)
        {
            if (rules[i].Subject == subject && Is(name, rules[i].NameUtf8))
            {
                named |= 1UL << i;
            }
        }

        return named;
    }

    /// <summary>Compares the value under the reader (a copy: the caller skips it after) with the rule's.</summary>
    private static bool MsgPackEquals(RouteRule rule, MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.String when rule.ValueKind == RuleValueKind.String:
                return Is(reader.ReadStringSequence()!.Value, rule.StringUtf8);
            case MessagePackType.Integer when rule.ValueKind == RuleValueKind.Number:
                return reader.ReadInt64() == rule.Number;
            case MessagePackType.Float when rule.ValueKind == RuleValueKind.Number:
                return reader.ReadDouble() == rule.Number;
            case MessagePackType.Boolean when rule.ValueKind == RuleValueKind.Boolean:
                return reader.ReadBoolean() == rule.Boolean;
            default:
                return false;
        }
    }

    private static int MsgPackShape(ref MessagePackReader reader, scoped Span<long> shape)
    {
        int n = reader.ReadArrayHeader();
        if (n > shape.Length)
        {
            for (int i = 0; i < n; i++)
            {
                reader.Skip();
            }

            return -1;
        }

        for (int i = 0; i < n; i++)
        {
            if (reader.NextMessagePackType != MessagePackType.Integer)
            {
                for (; i < n; i++)
                {
                    reader.Skip();
                }

                return -1;
            }

            shape[i] = reader.ReadInt64();
        }

        return n;
    }

    internal static bool Is(ReadOnlySequence<byte> text, ReadOnlySpan<byte> expected) =>
        text.IsSingleSegment ? text.FirstSpan.SequenceEqual(expected) : text.Length == expected.Length && SequenceEquals(text, expected);

    private static bool SequenceEquals(ReadOnlySequence<byte> text, ReadOnlySpan<byte> expected)
    {
        int at = 0;
        foreach (var segment in text)
        {
            if (!segment.Span.SequenceEqual(expected.Slice(at, segment.Length)))
            {
                return false;
            }

            at += segment.Length;
        }

        return true;
    }
}
