namespace LowLatency.Client.Wire;

/// <summary>
/// Writes an inference request as MessagePack (the JSON document's keys; each tensor's <c>data</c>
/// a bin of its raw bytes, copied once from the caller's memory) into a buffer the caller sized
/// with <see cref="UpperBound"/>. The <c>timeout</c> parameter is written in a fixed-width form
/// so that each retry can rewrite the time left in place (<see cref="PatchTimeout"/>).
/// </summary>
internal static class MsgPackRequestEncoder
{
    /// <summary>At least the bytes <see cref="Encode"/> writes for <paramref name="call"/>.</summary>
    public static int UpperBound(InferCall call)
    {
        long size = 128 + Utf8Text.MaxBytes(call.Options.RequestId);
        for (int i = 0; i < call.Inputs.Count; i++)
        {
            var input = call.Inputs[i];
            size += 64 + Utf8Text.MaxBytes(input.Name) + (9L * input.Rank) + input.ByteLength;
        }

        if (call.Options.Outputs is { } outputs)
        {
            for (int i = 0; i < outputs.Count; i++)
            {
                size += 24 + Utf8Text.MaxBytes(outputs[i]);
            }
        }

        return checked((int)size);
    }

    /// <summary>Writes the request; returns its length, and where the timeout's 8 bytes lie (-1 when none is sent).</summary>
    public static int Encode(InferCall call, Span<byte> destination, out int timeoutOffset)
    {
        var options = call.Options;
        var qos = call.QosUtf8;
        bool parameters = options.Priority > 0 || call.HasDeadline || !qos.IsEmpty;
        var w = new MsgPackWriter(destination);
        w.WriteMapHeader(1 + (options.RequestId is null ? 0 : 1) + (parameters ? 1 : 0) + (options.Outputs is null ? 0 : 1));
        if (options.RequestId is not null)
        {
            w.WriteString("id"u8);
            w.WriteString(options.RequestId);
        }

        timeoutOffset = -1;
        if (parameters)
        {
            w.WriteString("parameters"u8);
            w.WriteMapHeader((options.Priority > 0 ? 1 : 0) + (call.HasDeadline ? 1 : 0) + (qos.IsEmpty ? 0 : 1));
            if (options.Priority > 0)
            {
                w.WriteString("priority"u8);
                w.WriteUInt((ulong)options.Priority);
            }

            if (call.HasDeadline)
            {
                w.WriteString("timeout"u8);
                timeoutOffset = w.WriteUInt64Fixed((ulong)call.ServerTimeoutMicroseconds());
            }

            if (!qos.IsEmpty)
            {
                w.WriteString("qos"u8);
                w.WriteString(qos);
            }
        }

        w.WriteString("inputs"u8);
        w.WriteArrayHeader(call.Inputs.Count);
        for (int i = 0; i < call.Inputs.Count; i++)
        {
            var input = call.Inputs[i];
            w.WriteMapHeader(4);
            w.WriteString("name"u8);
            w.WriteString(input.Name);
            w.WriteString("datatype"u8);
            w.WriteString(TensorDatatypes.Utf8Name(input.Datatype));
            w.WriteString("shape"u8);
            var shape = input.Shape;
            w.WriteArrayHeader(shape.Length);
            foreach (long d in shape)
            {
                w.WriteUInt((ulong)d);
            }

            w.WriteString("data"u8);
            w.WriteBinHeader(input.ByteLength);
            w.WriteRaw(input.Bytes);
        }

        if (options.Outputs is { } outputs)
        {
            w.WriteString("outputs"u8);
            w.WriteArrayHeader(outputs.Count);
            for (int i = 0; i < outputs.Count; i++)
            {
                w.WriteMapHeader(1);
                w.WriteString("name"u8);
                w.WriteString(outputs[i]);
            }
        }

        return w.Position;
    }

    /// <summary>Rewrites the timeout written at <paramref name="offset"/> with the time left now.</summary>
    public static void PatchTimeout(Span<byte> body, int offset, long microseconds) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(body[offset..], (ulong)microseconds);
}
