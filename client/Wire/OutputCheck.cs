namespace LowLatency.Client.Wire;

/// <summary>What every decoder checks of an output: a name, a datatype this client knows, and bytes that fill the shape exactly.</summary>
internal static class OutputCheck
{
    // placed: whether the entry's data is where it lies in the answer (the binary JSON form places it
    // after every output is read, and checks BYTES elements then).
    public static void Complete(InferResult result, ref OutputEntry entry, ReadOnlySpan<byte> datatype, bool placed = true)
    {
        Datatype(result, ref entry, datatype);
        Filled(result, in entry, placed);
    }

    public static void Datatype(InferResult result, ref OutputEntry entry, ReadOnlySpan<byte> datatype)
    {
        if (!TensorDatatypes.TryParse(datatype, out entry.Datatype))
        {
            throw new MalformedAnswerException($"output '{Name(result, in entry)}' has datatype '{System.Text.Encoding.UTF8.GetString(datatype)}', which this client does not read");
        }
    }

    public static void Filled(InferResult result, in OutputEntry entry, bool placed = true)
    {
        if (!entry.Name.IsPresent)
        {
            throw new MalformedAnswerException("an output of the answer has no name");
        }

        if (!entry.Data.IsPresent)
        {
            throw new MalformedAnswerException($"output '{Name(result, in entry)}' carries no data");
        }

        long elements = 1;
        var shape = result.Shape(entry);
        foreach (long d in shape)
        {
            elements = d < 0 ? -1 : elements * d;
            if (elements < 0 || elements > int.MaxValue)
            {
                break;
            }
        }

        if (entry.Datatype == TensorDatatype.Bytes
            ? placed && TensorDatatypes.SerializedElements(result.Bytes(entry.Data)) != elements
            : elements * TensorDatatypes.ElementSize(entry.Datatype) != entry.Data.Length)
        {
            throw new MalformedAnswerException($"output '{Name(result, in entry)}': {entry.Data.Length} bytes do not fill its shape [{string.Join(",", shape.ToArray())}] of {TensorDatatypes.Name(entry.Datatype)}");
        }
    }

    private static string Name(InferResult result, in OutputEntry entry) =>
        entry.Name.IsPresent ? System.Text.Encoding.UTF8.GetString(result.Bytes(entry.Name)) : "?";
}
