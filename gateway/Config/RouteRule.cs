namespace LowLatency.Gateway.Config;

/// <summary>What a rule looks at: a request parameter's value, or an input's shape.</summary>
public enum RuleSubject
{
    Parameter,
    Input,
}

/// <summary>The kind of value a parameter rule compares with.</summary>
public enum RuleValueKind
{
    String,
    Number,
    Boolean,
}

/// <summary>
/// One rule of an alias, as data: when the request's parameter <see cref="Name"/> equals a value, or
/// its input <see cref="Name"/> has a dimension (or, with <see cref="Dimension"/> -1, an element
/// count) within [<see cref="AtLeast"/>, <see cref="AtMost"/>], the request goes to backend
/// <see cref="Backend"/> (its index in the alias) if it takes traffic. Names and string values are
/// kept as UTF-8 so that a body is compared without decoding text.
/// </summary>
public sealed record RouteRule(
    int Backend,
    RuleSubject Subject,
    string Name,
    byte[] NameUtf8,
    RuleValueKind ValueKind,
    byte[]? StringUtf8,
    double Number,
    bool Boolean,
    int Dimension,
    long AtLeast,
    long AtMost)
{
    /// <summary>Whether a shape satisfies an input rule.</summary>
    public bool Matches(ReadOnlySpan<long> shape)
    {
        long value;
        if (Dimension < 0)
        {
            value = 1;
            foreach (long d in shape)
            {
                value = d < 0 || value > long.MaxValue / Math.Max(d, 1) ? long.MaxValue : value * d;
            }
        }
        else if (Dimension < shape.Length)
        {
            value = shape[Dimension];
        }
        else
        {
            return false;
        }

        return value >= AtLeast && value <= AtMost;
    }
}
