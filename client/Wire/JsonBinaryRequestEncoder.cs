namespace LowLatency.Client.Wire;

/// <summary>
/// Writes an inference request in Triton's binary tensor form: a JSON header whose inputs carry
/// <c>binary_data_size</c> instead of <c>data</c>, every output asked for as binary
/// (<c>binary_data_output</c>), then the tensors' raw bytes, copied once from the caller's memory.
/// The JSON's length goes in <c>Inference-Header-Content-Length</c>.
/// </summary>
internal static class JsonBinaryRequestEncoder
{
    public static int UpperBound(InferCall call)
    {
        long size = 256 + ((long)JsonWriter.MaxBytesPerChar * (call.Options.RequestId?.Length ?? 0));
        for (int i = 0; i < call.Inputs.Count; i++)
        {
            var input = call.Inputs[i];
            size += 128 + ((long)JsonWriter.MaxBytesPerChar * input.Name.Length) + (21L * input.Rank) + input.ByteLength;
        }

        if (call.Options.Outputs is { } outputs)
        {
            for (int i = 0; i < outputs.Count; i++)
            {
                size += 64 + ((long)JsonWriter.MaxBytesPerChar * outputs[i].Length);
            }
        }

        return checked((int)size);
    }

    /// <summary>Writes the request; returns its whole length, the JSON's, and where the padded timeout lies (-1 when none is sent).</summary>
    public static int Encode(InferCall call, Span<byte> destination, out int jsonLength, out int timeoutOffset)
    {
        var options = call.Options;
        var w = new JsonWriter(destination);
        w.Raw("{"u8);
        if (options.RequestId is not null)
        {
            w.Raw("\"id\":"u8);
            w.String(options.RequestId);
            w.Raw(","u8);
        }

        w.Raw("\"parameters\":{"u8);
        if (options.Priority > 0)
        {
            w.Raw("\"priority\":"u8);
            w.Number(options.Priority);
            w.Raw(","u8);
        }

        timeoutOffset = -1;
        if (call.HasDeadline)
        {
            w.Raw("\"timeout\":"u8);
            timeoutOffset = w.PaddedNumber(call.ServerTimeoutMicroseconds());
            w.Raw(","u8);
        }

        var qos = call.QosUtf8;
        if (!qos.IsEmpty)
        {
            w.Raw("\"qos\":"u8);
            w.String(qos);
            w.Raw(","u8);
        }

        w.Raw("\"binary_data_output\":true},\"inputs\":["u8);
        for (int i = 0; i < call.Inputs.Count; i++)
        {
            var input = call.Inputs[i];
            w.Raw(i == 0 ? "{\"name\":"u8 : ",{\"name\":"u8);
            w.String(input.Name);
            w.Raw(",\"datatype\":"u8);
            w.String(TensorDatatypes.Utf8Name(input.Datatype));
            w.Raw(",\"shape\":["u8);
            var shape = input.Shape;
            for (int d = 0; d < shape.Length; d++)
            {
                if (d > 0)
                {
                    w.Raw(","u8);
                }

                w.Number(shape[d]);
            }

            w.Raw("],\"parameters\":{\"binary_data_size\":"u8);
            w.Number(input.ByteLength);
            w.Raw("}}"u8);
        }

        w.Raw("]"u8);
        if (options.Outputs is { } outputs)
        {
            w.Raw(",\"outputs\":["u8);
            for (int i = 0; i < outputs.Count; i++)
            {
                w.Raw(i == 0 ? "{\"name\":"u8 : ",{\"name\":"u8);
                w.String(outputs[i]);
                w.Raw(",\"parameters\":{\"binary_data\":true}}"u8);
            }

            w.Raw("]"u8);
        }

        w.Raw("}"u8);
        jsonLength = w.Position;
        for (int i = 0; i < call.Inputs.Count; i++)
        {
            w.Raw(call.Inputs[i].Bytes);
        }

        return w.Position;
    }

    public static void PatchTimeout(Span<byte> body, int offset, long microseconds) =>
        JsonWriter.WritePadded(body.Slice(offset, JsonWriter.TimeoutWidth), microseconds);
}
