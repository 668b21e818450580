using System.Buffers;
using System.Text;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using MessagePack;

namespace LowLatency.Host.Protocol;

/// <summary>
/// Decodes a MessagePack inference request straight from the body's buffer into the engine's request:
/// each tensor's <c>data</c> is a bin whose bytes the request borrows where they lie (the device
/// worker copies them once, into the batch's input buffer). No object graph is built, and no key is
/// turned into a string.
/// </summary>
internal static class MsgPackRequestDecoder
{
    private const int MaxSkipDepth = 32;

    public static void Decode(ReadOnlySequence<byte> body, InferenceRequest request)
    {
        var reader = new MessagePackReader(body);
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            BadInput.Throw("the body must be a MessagePack map with 'inputs'");
        }

        int fields = reader.ReadMapHeader();
        bool sawInputs = false;
        Span<byte> scratch = stackalloc byte[256];
        for (int f = 0; f < fields; f++)
        {
            var key = scratch[..ReadUtf8(ref reader, scratch, "a field name")];
            if (key.SequenceEqual("inputs"u8))
            {
                sawInputs = true;
                int count = ReadArrayHeader(ref reader, "inputs");
                for (int i = 0; i < count; i++)
                {
                    ReadInput(ref reader, request, i);
                }
            }
            else if (key.SequenceEqual("outputs"u8))
            {
                int count = ReadArrayHeader(ref reader, "outputs");
                for (int i = 0; i < count; i++)
                {
                    ReadOutput(ref reader, request, i);
                }
            }
            else if (key.SequenceEqual("id"u8))
            {
                request.Id = reader.TryReadNil() ? null : reader.NextMessagePackType == MessagePackType.String ? Id(ref reader) : BadInput.Throw<string>("'id' must be a string");
            }
            else if (key.SequenceEqual("parameters"u8))
            {
                ReadParameters(ref reader, request);
            }
            else
            {
                BadInput.Throw($"unknown field {ClientText.Quoted(key)}; a request has id, parameters, inputs, outputs");
            }
        }

        if (!sawInputs)
        {
            BadInput.Throw("missing field 'inputs'");
        }

        if (!reader.End)
        {
            BadInput.Throw("unexpected bytes after the request map");
        }
    }

    /// <summary>The id, at most <see cref="RequestFields.MaxIdBytes"/> long; a longer one is refused before it is made a string.</summary>
    private static string Id(ref MessagePackReader reader)
    {
        var utf8 = reader.ReadStringSequence()!.Value;
        return utf8.Length <= RequestFields.MaxIdBytes ? Encoding.UTF8.GetString(utf8) : RequestFields.IdTooLong();
    }

    /// <summary>The request-level parameters the scheduler reads (priority, timeout, qos); others are skipped, as KServe allows.</summary>
    private static void ReadParameters(ref MessagePackReader reader, InferenceRequest request)
    {
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            BadInput.Throw("'parameters' must be a map");
        }

        int fields = reader.ReadMapHeader();
        Span<byte> keyBuf = stackalloc byte[64];
        Span<byte> valueBuf = stackalloc byte[32];
        for (int f = 0; f < fields; f++)
        {
            var key = keyBuf[..ReadUtf8(ref reader, keyBuf, "a parameter name")];
            if (key.SequenceEqual("priority"u8))
            {
                request.Priority = reader.NextMessagePackType == MessagePackType.Integer && ReadDim(ref reader, default, "parameters.priority") is >= 0 and <= int.MaxValue and var p
                    ? (int)p
                    : BadInput.Throw<int>("parameters.priority must be a non-negative integer");
            }
            else if (key.SequenceEqual("timeout"u8))
            {
                request.TimeoutMicroseconds = reader.NextMessagePackType == MessagePackType.Integer && ReadDim(ref reader, default, "parameters.timeout") is >= 0 and var t
                    ? t
                    : BadInput.Throw<long>("parameters.timeout must be a non-negative integer (microseconds)");
            }
            else if (key.SequenceEqual("qos"u8))
            {
                request.Qos = RequestFields.Qos(valueBuf[..ReadUtf8(ref reader, valueBuf, "parameters.qos")]);
            }
            else
            {
                Skip(ref reader, 0);
            }
        }
    }

    private static void ReadInput(ref MessagePackReader reader, InferenceRequest request, int position)
    {
        var where = new Where("inputs", position);
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            BadInput.Throw($"{where} must be a map");
        }

        int fields = reader.ReadMapHeader();
        Span<byte> nameBuf = stackalloc byte[256];
        Span<byte> typeBuf = stackalloc byte[32];
        Span<byte> keyBuf = stackalloc byte[64];
        Span<long> shape = stackalloc long[RequestFields.MaxRank];
        scoped ReadOnlySpan<byte> name = default;
        scoped ReadOnlySpan<byte> datatype = default;
        int rank = -1;
        ReadOnlySequence<byte> data = default;
        MessagePackReader elements = default;
        bool hasData = false, hasName = false, hasType = false, hasElements = false;
        for (int f = 0; f < fields; f++)
        {
            var key = keyBuf[..ReadUtf8(ref reader, keyBuf, where, " field name")];
            if (key.SequenceEqual("name"u8))
            {
                name = nameBuf[..ReadUtf8(ref reader, nameBuf, where, ".name")];
                hasName = true;
            }
            else if (key.SequenceEqual("datatype"u8))
            {
                datatype = typeBuf[..ReadUtf8(ref reader, typeBuf, where, ".datatype")];
                hasType = true;
            }
            else if (key.SequenceEqual("shape"u8))
            {
                int n = ReadArrayHeader(ref reader, where, ".shape");
                if (n > RequestFields.MaxRank)
                {
                    BadInput.Throw($"{where}.shape has rank {n}; at most {RequestFields.MaxRank} is supported");
                }

                for (int d = 0; d < n; d++)
                {
                    shape[d] = reader.NextMessagePackType == MessagePackType.Integer
                        ? ReadDim(ref reader, where, ".shape")
                        : BadInput.Throw<long>($"{where}.shape[{d}] must be an integer");
                }

                rank = n;
            }
            else if (key.SequenceEqual("data"u8))
            {
                if (reader.NextMessagePackType == MessagePackType.Array)
                {
                    // BYTES elements one by one (str or bin): read once the datatype and shape are known.
                    elements = reader;
                    hasElements = hasData = true;
                    Skip(ref reader, 0);
                    continue;
                }

                if (reader.NextMessagePackType != MessagePackType.Binary)
                {
                    BadInput.Throw($"{where}.data must be a MessagePack bin of the tensor's raw little-endian bytes (or, for BYTES, an array of str or bin)");
                }

                data = reader.ReadBytes()!.Value;
                hasData = true;
            }
            else if (key.SequenceEqual("parameters"u8))
            {
                Skip(ref reader, 0);
            }
            else
            {
                BadInput.Throw($"unknown field {ClientText.Quoted(key)} in {where}; an input has name, datatype, shape, data, parameters");
            }
        }

        if (!hasName)
        {
            BadInput.Throw($"{where}: missing 'name'");
        }

        int index = RequestFields.Input(request, name);
        string inputName = request.Config.InputSpec(index).Name;
        if (!hasType)
        {
            BadInput.Throw($"input '{inputName}': missing 'datatype'");
        }

        if (rank < 0)
        {
            BadInput.Throw($"input '{inputName}': missing 'shape'");
        }

        if (!hasData)
        {
            BadInput.Throw($"input '{inputName}': missing 'data'");
        }

        var type = RequestFields.DataType(datatype, inputName);
        if (hasElements)
        {
            if (type != TensorDataType.Bytes)
            {
                BadInput.Throw($"input '{inputName}': data must be a MessagePack bin of the tensor's raw little-endian bytes; an array of elements is taken for BYTES only");
            }

            ReadElements(ref elements, request.AddInput(index, type, shape[..rank]), request.Config.InputSpec(index));
            return;
        }

        // The request borrows the bin's bytes where they lie in the body; the device worker copies
        // them once, into the batch's input buffer. The endpoint keeps the body until the answer.
        // BYTES in a bin (Triton's serialization: each element's 4-byte length, then its bytes) is
        // converted into the request's own buffer instead.
        request.AddInput(index, type, shape[..rank], data);
    }

    /// <summary>A BYTES input's elements, each a str or a bin of the id's UTF-8 bytes, into its buffer.</summary>
    private static void ReadElements(ref MessagePackReader reader, scoped Span<byte> dst, TensorConfig spec)
    {
        int count = dst.Length / spec.ElementSize;
        int n = reader.ReadArrayHeader();
        if (n != count)
        {
            BadInput.Throw($"input '{spec.Name}': data has {n} elements, its shape has {count}");
        }

        for (int i = 0; i < n; i++)
        {
            var value = reader.NextMessagePackType switch
            {
                MessagePackType.String => reader.ReadStringSequence()!.Value,
                MessagePackType.Binary => reader.ReadBytes()!.Value,
                _ => BadInput.Throw<ReadOnlySequence<byte>>($"input '{spec.Name}': element {i} must be a str or a bin (BYTES)"),
            };
            BytesElements.Write(dst, i, value, spec);
        }
    }

    private static void ReadOutput(ref MessagePackReader reader, InferenceRequest request, int position)
    {
        var where = new Where("outputs", position);
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            BadInput.Throw($"{where} must be a map");
        }

        int fields = reader.ReadMapHeader();
        Span<byte> keyBuf = stackalloc byte[64];
        Span<byte> nameBuf = stackalloc byte[256];
        bool named = false;
        for (int f = 0; f < fields; f++)
        {
            var key = keyBuf[..ReadUtf8(ref reader, keyBuf, where, " field name")];
            if (key.SequenceEqual("name"u8))
            {
                request.RequestOutput(RequestFields.Output(request, nameBuf[..ReadUtf8(ref reader, nameBuf, where, ".name")]));
                named = true;
            }
            else if (key.SequenceEqual("parameters"u8))
            {
                Skip(ref reader, 0);
            }
            else
            {
                BadInput.Throw($"unknown field {ClientText.Quoted(key)} in {where}; an output has name, parameters");
            }
        }

        if (!named)
        {
            BadInput.Throw($"{where}: missing 'name'");
        }
    }

    private static long ReadDim(ref MessagePackReader reader, Where where, string field)
    {
        try
        {
            return reader.ReadInt64();
        }
        catch (OverflowException)
        {
            return BadInput.Throw<long>($"{Describe(where, field)} has a value that overflows");
        }
    }

    private static int ReadArrayHeader(ref MessagePackReader reader, string what) => ReadArrayHeader(ref reader, default, what);

    private static int ReadArrayHeader(ref MessagePackReader reader, Where where, string field)
    {
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            BadInput.Throw($"'{Describe(where, field)}' must be an array");
        }

        return reader.ReadArrayHeader();
    }

    private static string Describe(Where where, string field) =>
        where.List is null ? field : field.StartsWith(' ') ? $"a{field} in {where}" : where + field;

    /// <summary>A string's UTF-8 bytes, copied into <paramref name="scratch"/> (names and keys are short).</summary>
    private static int ReadUtf8(ref MessagePackReader reader, scoped Span<byte> scratch, string what) => ReadUtf8(ref reader, scratch, default, what);

    private static int ReadUtf8(ref MessagePackReader reader, scoped Span<byte> scratch, Where where, string field)
    {
        if (reader.NextMessagePackType != MessagePackType.String)
        {
            BadInput.Throw($"{Describe(where, field)} must be a string");
        }

        var seq = reader.ReadStringSequence()!.Value;
        if (seq.Length > scratch.Length)
        {
            BadInput.Throw($"{Describe(where, field)} is longer than {scratch.Length} bytes");
        }

        seq.CopyTo(scratch);
        return (int)seq.Length;
    }

    // MessagePackReader.Skip recurses without a bound; untrusted input gets a bounded one.
    private static void Skip(ref MessagePackReader reader, int depth)
    {
        if (depth > MaxSkipDepth)
        {
            BadInput.Throw($"the body nests deeper than {MaxSkipDepth} levels");
        }

        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Map:
                int m = reader.ReadMapHeader();
                for (int i = 0; i < m * 2; i++)
                {
                    Skip(ref reader, depth + 1);
                }

                break;
            case MessagePackType.Array:
                int a = reader.ReadArrayHeader();
                for (int i = 0; i < a; i++)
                {
                    Skip(ref reader, depth + 1);
                }

                break;
            default:
                reader.Skip();
                break;
        }
    }
}
