using System.Buffers;
using System.Text;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Decodes a <c>ModelInferRequest</c> (Triton's grpc_service.proto) straight from the received
/// message into the engine's request, as the MessagePack decoder does: each input's
/// <c>raw_input_contents</c> entry is borrowed where it lies in the message (the device worker copies
/// it once, into the batch's input buffer), typed <c>contents</c> are converted into a buffer the
/// request owns. No message object, no <c>ByteString</c>. Fields may come in any order, repeated
/// scalars packed or not, unknown fields are skipped; everything else wrong is bad input naming the
/// field (INVALID_ARGUMENT).
/// </summary>
internal static class GrpcRequestDecoder
{
    public const string MessageName = "ModelInferRequest";

    // ModelInferRequest's fields.
    private const int ModelNameField = 1;
    private const int ModelVersionField = 2;
    private const int IdField = 3;
    private const int ParametersField = 4;
    private const int InputsField = 5;
    private const int OutputsField = 6;
    private const int RawInputContentsField = 7;

    // Where the raw entries of a model with up to this many inputs are noted on the stack.
    private const int StackInputs = 16;

    /// <summary>The model and version the message names (their UTF-8 bytes; empty when absent), read before anything else so that access and routing can be decided.</summary>
    public static void ReadTarget(ReadOnlySequence<byte> message, out ReadOnlySequence<byte> model, out ReadOnlySequence<byte> version) =>
        ReadTarget(message, out model, out version, out _);

    /// <summary>The model, version and id (for a stream's error answer, which names the request it answers).</summary>
    public static void ReadTarget(ReadOnlySequence<byte> message, out ReadOnlySequence<byte> model, out ReadOnlySequence<byte> version, out ReadOnlySequence<byte> id)
    {
        (model, version, id) = (default, default, default);
        var r = new ProtoReader(message, MessageName);
        while (r.TryReadTag(out int field, out int wire))
        {
            // A scalar field sent twice: the last one counts, as Protocol Buffers has it.
            if (field == ModelNameField)
            {
                r.Expect(wire, WireType.Len, "model_name");
                model = r.ReadBytes("model_name");
            }
            else if (field == ModelVersionField)
            {
                r.Expect(wire, WireType.Len, "model_version");
                version = r.ReadBytes("model_version");
            }
            else if (field == IdField)
            {
                r.Expect(wire, WireType.Len, "id");
                id = r.ReadBytes("id");
            }
            else
            {
                r.Skip(wire, FieldName(field));
            }
        }
    }

    /// <summary>Fills <paramref name="request"/> from the message; the request may borrow from <paramref name="message"/> until it is answered.</summary>
    public static void Decode(ReadOnlySequence<byte> message, InferenceRequest request)
    {
        // First pass: where each raw_input_contents entry lies (matched to inputs by position,
        // whichever comes first in the message), and how many inputs there are.
        int modelInputs = request.Config.RequestInputCount;
        Span<long> raw = modelInputs <= StackInputs ? stackalloc long[2 * StackInputs] : new long[2 * modelInputs];
        int rawCount = 0, inputCount = 0;
        var r = new ProtoReader(message, MessageName);
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == RawInputContentsField)
            {
                r.Expect(wire, WireType.Len, "raw_input_contents");
                long length = r.ReadBytes("raw_input_contents").Length;
                if (rawCount < modelInputs)
                {
                    raw[2 * rawCount] = r.Consumed - length;
                    raw[(2 * rawCount) + 1] = length;
                }

                rawCount++;
            }
            else if (field == InputsField)
            {
                r.Expect(wire, WireType.Len, "inputs");
                r.ReadBytes("inputs");
                inputCount++;
            }
            else
            {
                r.Skip(wire, FieldName(field));
            }
        }

        if (rawCount > 0 && rawCount != inputCount)
        {
            BadInput.Throw($"raw_input_contents has {rawCount} entries for {inputCount} inputs (model '{request.Config.Name}' takes {modelInputs}): send one entry per input, in the order of inputs, or none and each input's contents");
        }

        // Second pass: everything else, in the message's order.
        r = new ProtoReader(message, MessageName);
        int input = 0, output = 0;
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case IdField:
                    r.Expect(wire, WireType.Len, "id");
                    request.Id = Id(r.ReadBytes("id"));
                    break;
                case ParametersField:
                    r.Expect(wire, WireType.Len, "parameters");
                    GrpcParameters.Read(r.ReadBytes("parameters"), request);
                    break;
                case InputsField:
                    var bytes = r.ReadBytes("inputs");
                    // Past the model's inputs nothing was noted: such an input is a duplicate or unknown, refused before its data is read.
                    var data = input < Math.Min(rawCount, modelInputs) ? message.Slice(raw[2 * input], raw[(2 * input) + 1]) : default;
                    ReadInput(bytes, request, input++, rawCount > 0, data);
                    break;
                case OutputsField:
                    r.Expect(wire, WireType.Len, "outputs");
                    ReadOutput(r.ReadBytes("outputs"), request, output++);
                    break;
                default:
                    // model_name, model_version and raw_input_contents were read above; unknown fields are skipped.
                    r.Skip(wire, FieldName(field));
                    break;
            }
        }
    }

    /// <summary>The id, at most <see cref="RequestFields.MaxIdBytes"/> long; empty is none (proto3 cannot tell them apart).</summary>
    private static string? Id(ReadOnlySequence<byte> utf8) =>
        utf8.IsEmpty ? null : utf8.Length <= RequestFields.MaxIdBytes ? Encoding.UTF8.GetString(utf8) : RequestFields.IdTooLong();

    private static void ReadInput(ReadOnlySequence<byte> bytes, InferenceRequest request, int position, bool raw, ReadOnlySequence<byte> data)
    {
        var where = new Where("inputs", position);
        var r = new ProtoReader(bytes, MessageName, where);
        Span<byte> nameBuf = stackalloc byte[256];
        Span<byte> typeBuf = stackalloc byte[32];
        Span<long> shape = stackalloc long[RequestFields.MaxRank];
        int nameLength = 0, typeLength = 0, rank = 0;
        ReadOnlySequence<byte> contents = default;
        bool hasContents = false;
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    nameLength = CopyString(ref r, wire, nameBuf, "name");
                    break;
                case 2:
                    typeLength = CopyString(ref r, wire, typeBuf, "datatype");
                    break;
                case 3:
                    rank = ReadShape(ref r, wire, shape, rank);
                    break;
                case 5:
                    r.Expect(wire, WireType.Len, "contents");
                    contents = r.ReadBytes("contents");
                    hasContents = true;
                    break;
                default:
                    // parameters (4; binary_data_size has no meaning here) and unknown fields.
                    r.Skip(wire, field == 4 ? "parameters" : FieldName(field));
                    break;
            }
        }

        if (nameLength == 0)
        {
            BadInput.Throw($"{where}: missing 'name'");
        }

        int index = RequestFields.Input(request, nameBuf[..nameLength]);
        string name = request.Config.InputSpec(index).Name;
        if (typeLength == 0)
        {
            BadInput.Throw($"input '{name}': missing 'datatype'");
        }

        var type = RequestFields.DataType(typeBuf[..typeLength], name);
        if (raw)
        {
            if (hasContents)
            {
                BadInput.Throw($"input '{name}': 'contents' is set while the request carries raw_input_contents; send every input's data one way (Triton refuses mixing them too)");
            }

            // Borrowed where it lies in the message; the endpoint keeps the message until the answer.
            request.AddInput(index, type, shape[..rank], data);
        }
        else if (hasContents)
        {
            TypedContents.Read(contents, request, index, type, shape[..rank], where);
        }
        else
        {
            BadInput.Throw($"input '{name}': no data: send its bytes in raw_input_contents (one entry per input, in input order) or its values in 'contents'");
        }
    }

    private static int ReadShape(ref ProtoReader r, int wire, scoped Span<long> shape, int rank)
    {
        if (wire == WireType.Varint)
        {
            return AddDimension(ref r, shape, rank, (long)r.ReadVarint("shape"));
        }

        r.Expect(wire, WireType.Len, "shape");
        var packed = new ProtoReader(r.ReadBytes("shape"), MessageName, r.Within);
        while (!packed.End)
        {
            rank = AddDimension(ref r, shape, rank, (long)packed.ReadVarint("shape"));
        }

        return rank;
    }

    private static int AddDimension(ref ProtoReader r, scoped Span<long> shape, int rank, long dimension)
    {
        if (rank == shape.Length)
        {
            BadInput.Throw($"{r.Name("shape")} has more than {RequestFields.MaxRank} dimensions; at most {RequestFields.MaxRank} is supported");
        }

        shape[rank] = dimension;
        return rank + 1;
    }

    private static void ReadOutput(ReadOnlySequence<byte> bytes, InferenceRequest request, int position)
    {
        var where = new Where("outputs", position);
        var r = new ProtoReader(bytes, MessageName, where);
        Span<byte> nameBuf = stackalloc byte[256];
        int nameLength = 0;
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == 1)
            {
                nameLength = CopyString(ref r, wire, nameBuf, "name");
            }
            else
            {
                // parameters (2: binary_data, classification) and unknown fields.
                r.Skip(wire, field == 2 ? "parameters" : FieldName(field));
            }
        }

        if (nameLength == 0)
        {
            BadInput.Throw($"{where}: missing 'name'");
        }

        request.RequestOutput(RequestFields.Output(request, nameBuf[..nameLength]));
    }

    /// <summary>A short string's UTF-8 bytes, copied into <paramref name="scratch"/> (names and datatypes are short).</summary>
    internal static int CopyString(ref ProtoReader r, int wire, scoped Span<byte> scratch, string field)
    {
        r.Expect(wire, WireType.Len, field);
        var utf8 = r.ReadBytes(field);
        if (utf8.Length > scratch.Length)
        {
            BadInput.Throw($"{r.Name(field)} is longer than {scratch.Length} bytes");
        }

        utf8.CopyTo(scratch);
        return (int)utf8.Length;
    }

    private static string FieldName(int field) => field switch
    {
        ModelNameField => "model_name",
        ModelVersionField => "model_version",
        IdField => "id",
        ParametersField => "parameters",
        InputsField => "inputs",
        OutputsField => "outputs",
        RawInputContentsField => "raw_input_contents",
        _ => "an unknown field",
    };
}
