using System.Buffers;
using System.Text;
using Grpc.Core;

namespace LowLatency.Client.Wire;

/// <summary>
/// Writes a <c>ModelInferRequest</c> by hand, straight into gRPC's request buffer: the message's
/// size is computed first (<see cref="SerializationContext.SetPayloadLength"/>, which lets
/// Grpc.Net.Client write into one exactly sized buffer), then each field, with every input's bytes
/// in <c>raw_input_contents</c> copied once from the caller's memory. No message objects, no
/// <c>ByteString</c>. The time left goes as the <c>timeout</c> parameter (µs, as Triton reads it)
/// besides the call's deadline; priority as <c>priority</c>, the QoS class as <c>qos</c>.
/// </summary>
internal static class GrpcRequestEncoder
{
    // ModelInferRequest's fields.
    private const int ModelName = 1;
    private const int ModelVersion = 2;
    private const int Id = 3;
    private const int Parameters = 4;
    private const int Inputs = 5;
    private const int Outputs = 6;
    private const int RawInputContents = 7;

    // InferInputTensor's and InferRequestedOutputTensor's.
    private const int TensorName = 1;
    private const int TensorDatatype = 2;
    private const int TensorShape = 3;

    // InferParameter's oneof.
    private const int Int64Param = 2;
    private const int StringParam = 3;

    /// <summary>The marshaller's serializer: size, then write, then complete, once per attempt.</summary>
    public static void Serialize(InferCall call, SerializationContext context)
    {
        long timeout = call.HasDeadline ? call.ServerTimeoutMicroseconds() : 0;
        int size = Size(call, timeout);
        context.SetPayloadLength(size);
        Write(call, timeout, context.GetBufferWriter());
        context.Complete();
    }

    /// <summary>The message's exact size.</summary>
    /// <param name="call">What to send.</param>
    /// <param name="timeout">The <c>timeout</c> parameter to send, µs; 0 sends none.</param>
    public static int Size(InferCall call, long timeout)
    {
        var options = call.Options;
        long size = ProtoSize.Field(Encoding.UTF8.GetByteCount(call.Model));
        if (!string.IsNullOrEmpty(options.ModelVersion))
        {
            size += ProtoSize.Field(Encoding.UTF8.GetByteCount(options.ModelVersion));
        }

        if (!string.IsNullOrEmpty(options.RequestId))
        {
            size += ProtoSize.Field(Encoding.UTF8.GetByteCount(options.RequestId));
        }

        if (options.Priority > 0)
        {
            size += ProtoSize.Field(Int64EntrySize("priority"u8.Length, options.Priority));
        }

        if (timeout > 0)
        {
            size += ProtoSize.Field(Int64EntrySize("timeout"u8.Length, timeout));
        }

        var qos = call.QosUtf8;
        if (!qos.IsEmpty)
        {
            size += ProtoSize.Field(StringEntrySize("qos"u8.Length, qos.Length));
        }

        for (int i = 0; i < call.Inputs.Count; i++)
        {
            var input = call.Inputs[i];
            size += ProtoSize.Field(InputSize(in input)) + ProtoSize.Field(input.ByteLength);
        }

        if (options.Outputs is { } outputs)
        {
            for (int i = 0; i < outputs.Count; i++)
            {
                size += ProtoSize.Field(ProtoSize.Field(Encoding.UTF8.GetByteCount(outputs[i])));
            }
        }

        return checked((int)size);
    }

    public static void Write(InferCall call, long timeout, IBufferWriter<byte> output)
    {
        var options = call.Options;
        var w = new ProtoWriter(output);
        w.String(ModelName, call.Model);
        if (!string.IsNullOrEmpty(options.ModelVersion))
        {
            w.String(ModelVersion, options.ModelVersion);
        }

        if (!string.IsNullOrEmpty(options.RequestId))
        {
            w.String(Id, options.RequestId);
        }

        if (options.Priority > 0)
        {
            WriteInt64Entry(ref w, "priority"u8, options.Priority);
        }

        if (timeout > 0)
        {
            WriteInt64Entry(ref w, "timeout"u8, timeout);
        }

        var qos = call.QosUtf8;
        if (!qos.IsEmpty)
        {
            w.Header(Parameters, StringEntrySize("qos"u8.Length, qos.Length));
            w.Bytes(1, "qos"u8);
            w.Header(2, ProtoSize.Field(qos.Length));
            w.Bytes(StringParam, qos);
        }

        for (int i = 0; i < call.Inputs.Count; i++)
        {
            var input = call.Inputs[i];
            w.Header(Inputs, InputSize(in input));
            w.String(TensorName, input.Name);
            w.Bytes(TensorDatatype, TensorDatatypes.Utf8Name(input.Datatype));
            var shape = input.Shape;
            if (shape.Length > 0)
            {
                w.Header(TensorShape, PackedSize(shape));
                foreach (long d in shape)
                {
                    w.Varint((ulong)d);
                }
            }
        }

        if (options.Outputs is { } outputs)
        {
            for (int i = 0; i < outputs.Count; i++)
            {
                w.Header(Outputs, ProtoSize.Field(Encoding.UTF8.GetByteCount(outputs[i])));
                w.String(TensorName, outputs[i]);
            }
        }

        // One raw_input_contents per input, in the inputs' order, an empty tensor's included.
        for (int i = 0; i < call.Inputs.Count; i++)
        {
            w.Bytes(RawInputContents, call.Inputs[i].Bytes);
        }

        w.Flush();
    }

    private static int InputSize(in InferInput input)
    {
        var shape = input.Shape;
        return ProtoSize.Field(Encoding.UTF8.GetByteCount(input.Name))
            + ProtoSize.Field(TensorDatatypes.Utf8Name(input.Datatype).Length)
            + (shape.Length > 0 ? ProtoSize.Field(PackedSize(shape)) : 0);
    }

    private static int PackedSize(ReadOnlySpan<long> shape)
    {
        int size = 0;
        foreach (long d in shape)
        {
            size += ProtoSize.Varint((ulong)d);
        }

        return size;
    }

    // A map<string, InferParameter> entry is a message: key = 1, value = 2.
    private static int Int64EntrySize(int keyLength, long value) => ProtoSize.Field(keyLength) + ProtoSize.Field(ProtoSize.VarintField((ulong)value));

    private static int StringEntrySize(int keyLength, int valueLength) => ProtoSize.Field(keyLength) + ProtoSize.Field(ProtoSize.Field(valueLength));

    private static void WriteInt64Entry(ref ProtoWriter w, ReadOnlySpan<byte> key, long value)
    {
        w.Header(Parameters, Int64EntrySize(key.Length, value));
        w.Bytes(1, key);
        w.Header(2, ProtoSize.VarintField((ulong)value));
        w.Tag(Int64Param, ProtoWriter.VarintType);
        w.Varint((ulong)value);
    }
}
