using System.Buffers;
using LowLatency.Engine.Requests;
using LowLatency.Gateway.Config;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Which of an alias's rules a <c>ModelInferRequest</c> satisfies (a bit per rule), read from the
/// message as it came, before it is decoded, as <see cref="RuleScan"/> reads REST bodies: the
/// request's <c>parameters</c> (map field 4: key, and the <c>InferParameter</c>'s bool, int64,
/// string, double or uint64) and each input's <c>name</c> and <c>shape</c> (field 5; packed or not);
/// tensor contents skipped by length, never read. Nothing is allocated. A message that cannot be
/// read matches no rule: the decoder refuses it with its own error.
/// </summary>
internal static class GrpcRuleScan
{
    private const int ParametersField = 4;
    private const int InputsField = 5;

    public static ulong Matches(IReadOnlyList<RouteRule> rules, ReadOnlySequence<byte> message)
    {
        try
        {
            ulong matched = 0;
            var r = new ProtoReader(message, GrpcRequestDecoder.MessageName);
            while (r.TryReadTag(out int field, out int wire))
            {
                if (field == ParametersField && wire == WireType.Len)
                {
                    matched |= Parameter(rules, r.ReadBytes("parameters"));
                }
                else if (field == InputsField && wire == WireType.Len)
                {
                    matched |= Input(rules, r.ReadBytes("inputs"));
                }
                else
                {
                    r.Skip(wire, "a field");
                }
            }

            return matched;
        }
        catch (InferenceException)
        {
            return 0;
        }
    }

    /// <summary>A map entry: key (1) and an <c>InferParameter</c> (2), in either order.</summary>
    private static ulong Parameter(IReadOnlyList<RouteRule> rules, ReadOnlySequence<byte> entry)
    {
        ReadOnlySequence<byte> key = default, value = default;
        var r = new ProtoReader(entry, "parameters");
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == 1 && wire == WireType.Len)
            {
                key = r.ReadBytes("key");
            }
            else if (field == 2 && wire == WireType.Len)
            {
                value = r.ReadBytes("value");
            }
            else
            {
                r.Skip(wire, "a field");
            }
        }

        ulong named = RuleScan.Named(rules, RuleSubject.Parameter, key);
        ulong matched = 0;
        for (int i = 0; named != 0 && i < rules.Count; i++)
        {
            if ((named & (1UL << i)) != 0 && EqualsRule(rules[i], value))
            {
                matched |= 1UL << i;
            }
        }

        return matched;
    }

    /// <summary>The <c>InferParameter</c>'s choice (the last one set counts) against the rule's value.</summary>
    private static bool EqualsRule(RouteRule rule, ReadOnlySequence<byte> parameter)
    {
        bool result = false;
        var r = new ProtoReader(parameter, "InferParameter");
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.Varint:
                    result = rule.ValueKind == RuleValueKind.Boolean && (r.ReadVarint("bool_param") != 0) == rule.Boolean;
                    break;
                case 2 when wire == WireType.Varint:
                    result = rule.ValueKind == RuleValueKind.Number && (long)r.ReadVarint("int64_param") == rule.Number;
                    break;
                case 3 when wire == WireType.Len:
                    result = rule.ValueKind == RuleValueKind.String && RuleScan.Is(r.ReadBytes("string_param"), rule.StringUtf8);
                    break;
                case 4 when wire == WireType.Fixed64:
                    result = rule.ValueKind == RuleValueKind.Number && BitConverter.UInt64BitsToDouble(r.ReadFixed64("double_param")) == rule.Number;
                    break;
                case 5 when wire == WireType.Varint:
                    result = rule.ValueKind == RuleValueKind.Number && r.ReadVarint("uint64_param") == rule.Number;
                    break;
                default:
                    r.Skip(wire, "a field");
                    break;
            }
        }

        return result;
    }

    /// <summary>An <c>InferInputTensor</c>: its name (1) and shape (3), the rest skipped.</summary>
    private static ulong Input(IReadOnlyList<RouteRule> rules, ReadOnlySequence<byte> input)
    {
        Span<long> shape = stackalloc long[RuleScan.MaxDims];
        int dims = 0;
        ReadOnlySequence<byte> name = default;
        var r = new ProtoReader(input, "inputs");
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == 1 && wire == WireType.Len)
            {
                name = r.ReadBytes("name");
            }
            else if (field == 3 && wire == WireType.Len)
            {
                var packed = new ProtoReader(r.ReadBytes("shape"), "shape");
                while (!packed.End)
                {
                    dims = Add(shape, dims, packed.ReadVarint("shape"));
                }
            }
            else if (field == 3 && wire == WireType.Varint)
            {
                dims = Add(shape, dims, r.ReadVarint("shape"));
            }
            else
            {
                r.Skip(wire, "a field");
            }
        }

        return RuleScan.InputMatches(rules, RuleScan.Named(rules, RuleSubject.Input, name), shape, dims);
    }

    /// <summary>One more dimension; -1 once there are more than a rule can look at (no input rule matches then).</summary>
    private static int Add(Span<long> shape, int dims, ulong value)
    {
        if (dims < 0 || dims == shape.Length)
        {
            return -1;
        }

        shape[dims] = (long)value;
        return dims + 1;
    }
}
