using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>
/// Decodes a KServe v2 JSON inference request from the body's buffer with a forward-only reader:
/// each number of a tensor's <c>data</c> (flat or nested, row-major) is written straight into the
/// request's input buffer. A <c>data</c> that comes before its <c>shape</c> is read on a second pass
/// from a saved reader position. With Triton's binary tensor data extension (<see cref="BinaryTensorData"/>)
/// the JSON is the body's first <c>jsonLength</c> bytes, and an input with
/// <c>parameters.binary_data_size</c> borrows its bytes from what follows, in input order, as the
/// MessagePack decoder borrows its tensors: copied once, by the device worker.
/// </summary>
internal static class JsonRequestDecoder
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    // No name or value the server knows is this long: past it, an escaped or split string (which
    // would have to be copied to be read) is refused rather than copied.
    private const int MaxUnescapedBytes = 4096;

    /// <param name="jsonLength">The JSON's length (the Inference-Header-Content-Length header), the binary tensors after it; -1: the whole body is JSON.</param>
    /// <returns>The outputs the request asked for as binary data.</returns>
    public static BinaryOutputs Decode(ReadOnlySequence<byte> body, InferenceRequest request, long jsonLength = -1)
    {
        var binary = new BinaryInputs(jsonLength < 0 ? default : body.Slice(jsonLength), jsonLength >= 0);
        var outputs = default(BinaryOutputs);
        var reader = new Utf8JsonReader(jsonLength < 0 ? body : body.Slice(0, jsonLength), Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            BadInput.Throw("the body must be a JSON object with 'inputs'");
        }

        bool sawInputs = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("inputs"u8))
            {
                sawInputs = true;
                Expect(ref reader, JsonTokenType.StartArray, "inputs");
                int i = 0;
                while (Next(ref reader) != JsonTokenType.EndArray)
                {
                    ReadInput(ref reader, request, i++, ref binary);
                }
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                Expect(ref reader, JsonTokenType.StartArray, "outputs");
                int i = 0;
                while (Next(ref reader) != JsonTokenType.EndArray)
                {
                    ReadOutput(ref reader, request, i++, ref outputs);
                }
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                Next(ref reader);
                request.Id = reader.TokenType switch
                {
                    JsonTokenType.String => Id(ref reader),
                    JsonTokenType.Null => null,
                    _ => BadInput.Throw<string>("'id' must be a string"),
                };
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                ReadParameters(ref reader, request, ref outputs);
            }
            else
            {
                BadInput.Throw($"unknown field {Quoted(ref reader)}; a request has id, parameters, inputs, outputs");
            }
        }

        if (!sawInputs)
        {
            BadInput.Throw("missing field 'inputs'");
        }

        if (reader.Read())
        {
            BadInput.Throw(jsonLength < 0
                ? "unexpected content after the request object (binary tensor data needs the " + BinaryTensorData.HeaderName + " header)"
                : "unexpected content after the request object, within the " + BinaryTensorData.HeaderName + " bytes");
        }

        if (binary.Remaining > 0)
        {
            BadInput.Throw($"the body has {binary.Remaining} bytes after the JSON that no input's parameters.binary_data_size claims");
        }

        return outputs;
    }

    /// <summary>The id, at most <see cref="RequestFields.MaxIdBytes"/> long once unescaped; a longer one is refused before it is made a string.</summary>
    private static string Id(ref Utf8JsonReader reader)
    {
        // Unescaping only shortens (\u0041 is one byte for six), and by at most six to one.
        long sent = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (sent > RequestFields.MaxIdBytes && (!reader.ValueIsEscaped || sent > 6L * RequestFields.MaxIdBytes))
        {
            return RequestFields.IdTooLong();
        }

        string id = reader.GetString()!;
        return sent <= RequestFields.MaxIdBytes || Encoding.UTF8.GetByteCount(id) <= RequestFields.MaxIdBytes ? id : RequestFields.IdTooLong();
    }

    /// <summary>The request-level parameters the scheduler reads (priority, timeout, qos) and binary_data_output; others are ignored, as KServe allows.</summary>
    private static void ReadParameters(ref Utf8JsonReader reader, InferenceRequest request, ref BinaryOutputs outputs)
    {
        Expect(ref reader, JsonTokenType.StartObject, "parameters");
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("priority"u8))
            {
                Next(ref reader);
                request.Priority = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int p) && p >= 0
                    ? p
                    : BadInput.Throw<int>("parameters.priority must be a non-negative integer");
            }
            else if (reader.ValueTextEquals("timeout"u8))
            {
                Next(ref reader);
                request.TimeoutMicroseconds = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long t) && t >= 0
                    ? t
                    : BadInput.Throw<long>("parameters.timeout must be a non-negative integer (microseconds)");
            }
            else if (reader.ValueTextEquals("qos"u8))
            {
                Next(ref reader);
                request.Qos = reader.TokenType == JsonTokenType.String
                    ? RequestFields.Qos(Text(ref reader, default, "parameters.qos"))
                    : BadInput.Throw<QosClass>("parameters.qos must be a string: realtime, balanced or throughput");
            }
            else if (reader.ValueTextEquals("binary_data_output"u8))
            {
                outputs.All = Bool(ref reader, default, "parameters.binary_data_output");
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }
    }

    private static void ReadInput(ref Utf8JsonReader reader, InferenceRequest request, int position, ref BinaryInputs binary)
    {
        var where = new Where("inputs", position);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            BadInput.Throw($"{where} must be an object");
        }

        int index = -1;
        TensorDataType type = default;
        bool hasType = false;
        string? unknownType = null;
        Span<long> shape = stackalloc long[RequestFields.MaxRank];
        int rank = -1;
        Utf8JsonReader dataAt = default;
        bool hasData = false;
        long binarySize = -1;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                Expect(ref reader, JsonTokenType.String, where, ".name");
                index = RequestFields.Input(request, Text(ref reader, where, ".name"));
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                Expect(ref reader, JsonTokenType.String, where, ".datatype");
                hasType = true;
                if (reader.ValueIsEscaped || reader.HasValueSequence || !TensorDataTypes.TryParseProtocol(reader.ValueSpan, out type))
                {
                    // Rare: resolved (or reported) once the input's name is known.
                    var text = Text(ref reader, where, ".datatype");
                    unknownType = TensorDataTypes.TryParseProtocol(text, out type) ? null : ClientText.Quoted(text);
                }
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                Expect(ref reader, JsonTokenType.StartArray, where, ".shape");
                rank = 0;
                while (Next(ref reader) != JsonTokenType.EndArray)
                {
                    if (rank == RequestFields.MaxRank)
                    {
                        BadInput.Throw($"{where}.shape has more than {RequestFields.MaxRank} dimensions");
                    }

                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long dim))
                    {
                        dim = BadInput.Throw<long>($"{where}.shape[{rank}] must be an integer");
                    }

                    shape[rank++] = dim;
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                Next(ref reader);
                dataAt = reader;
                hasData = true;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                binarySize = ReadInputParameters(ref reader, where);
            }
            else
            {
                BadInput.Throw($"unknown field {Quoted(ref reader)} in {where}; an input has name, datatype, shape, data, parameters");
            }
        }

        if (index < 0)
        {
            BadInput.Throw($"{where}: missing 'name'");
        }

        string name = request.Config.InputSpec(index).Name;
        if (!hasType)
        {
            BadInput.Throw($"input '{name}': missing 'datatype'");
        }

        if (unknownType is not null)
        {
            RequestFields.UnknownDataType(unknownType, name);
        }

        if (rank < 0)
        {
            BadInput.Throw($"input '{name}': missing 'shape'");
        }

        if (binarySize >= 0)
        {
            if (hasData)
            {
                BadInput.Throw($"input '{name}' has both 'data' and parameters.binary_data_size; send one");
            }

            request.AddInput(index, type, shape[..rank], binary.Take(binarySize, name));
            return;
        }

        if (!hasData)
        {
            BadInput.Throw($"input '{name}': missing 'data' (or parameters.binary_data_size, with its bytes after the JSON)");
        }

        var dst = request.AddInput(index, type, shape[..rank]);
        FillData(ref dataAt, dst, request.Config.InputSpec(index), shape[..rank]);
    }

    /// <summary>An input's parameters: its binary_data_size (-1 without one); others are ignored.</summary>
    private static long ReadInputParameters(ref Utf8JsonReader reader, Where where)
    {
        Expect(ref reader, JsonTokenType.StartObject, where, ".parameters");
        long size = -1;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("binary_data_size"u8))
            {
                Next(ref reader);
                size = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long n) && n >= 0
                    ? n
                    : BadInput.Throw<long>($"{where}.parameters.binary_data_size must be a non-negative integer (bytes)");
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        return size;
    }

    private static void ReadOutput(ref Utf8JsonReader reader, InferenceRequest request, int position, ref BinaryOutputs outputs)
    {
        var where = new Where("outputs", position);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            BadInput.Throw($"{where} must be an object");
        }

        int index = -1;
        int binary = -1;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                Expect(ref reader, JsonTokenType.String, where, ".name");
                index = RequestFields.Output(request, Text(ref reader, where, ".name"));
                request.RequestOutput(index);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                Expect(ref reader, JsonTokenType.StartObject, where, ".parameters");
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("binary_data"u8))
                    {
                        binary = Bool(ref reader, where, ".parameters.binary_data") ? 1 : 0;
                    }
                    else
                    {
                        Next(ref reader);
                        reader.Skip();
                    }
                }
            }
            else
            {
                BadInput.Throw($"unknown field {Quoted(ref reader)} in {where}; an output has name, parameters");
            }
        }

        if (index < 0)
        {
            BadInput.Throw($"{where}: missing 'name'");
        }

        if (binary >= 0 && !outputs.Choose(index, binary == 1))
        {
            BadInput.Throw($"output '{request.Config.Outputs[index].Name}': parameters.binary_data is kept for a model's first 64 outputs only; use the request's parameters.binary_data_output");
        }
    }

    private static bool Bool(ref Utf8JsonReader reader, Where where, string field) => Next(ref reader) switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => BadInput.Throw<bool>($"{(where.List is null ? field : where + field)} must be true or false"),
    };

    /// <summary>Writes the (possibly nested) array at the reader into <paramref name="dst"/>, element by element.</summary>
    private static void FillData(ref Utf8JsonReader reader, scoped Span<byte> dst, TensorConfig spec, scoped ReadOnlySpan<long> shape)
    {
        var type = spec.DataType;
        string name = spec.Name;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            BadInput.Throw($"input '{name}': 'data' must be an array");
        }

        int size = spec.ElementSize;
        int count = dst.Length / size;
        int n = 0;
        int depth = 1;
        while (depth > 0)
        {
            Next(ref reader);
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    depth++;
                    continue;
                case JsonTokenType.EndArray:
                    depth--;
                    continue;
                default:
                    break;
            }

            if (n == count)
            {
                BadInput.Throw($"input '{name}': data has more than the {count} elements shape {InferenceRequest.Format(shape)} holds");
            }

            if (type == TensorDataType.Bytes)
            {
                WriteString(ref reader, dst, spec, n);
            }
            else
            {
                WriteElement(ref reader, dst.Slice(n * size, size), type, name, n);
            }

            n++;
        }

        if (n != count)
        {
            BadInput.Throw($"input '{name}': data has {n} elements, shape {InferenceRequest.Format(shape)} needs {count}");
        }
    }

    private static void WriteElement(ref Utf8JsonReader reader, scoped Span<byte> dst, TensorDataType type, string name, int n)
    {
        if (type == TensorDataType.Bool)
        {
            dst[0] = reader.TokenType switch
            {
                JsonTokenType.True => 1,
                JsonTokenType.False => 0,
                _ => BadInput.Throw<byte>($"input '{name}': element {n} must be true or false"),
            };
            return;
        }

        if (reader.TokenType != JsonTokenType.Number)
        {
            BadInput.Throw($"input '{name}': element {n} must be a number");
        }

        switch (type)
        {
            // A literal past the datatype's largest finite value is refused, as an integer past its
            // type's range is, rather than stored as an infinity the client never wrote. Below the
            // smallest subnormal a value rounds to zero, as IEEE 754 has it.
            case TensorDataType.FP32:
                float f = (float)Double(ref reader, name, n);
                MemoryMarshal.Write(dst, float.IsFinite(f) ? f : OutOfRange<float>(type, name, n));
                return;
            case TensorDataType.FP64:
                double d = Double(ref reader, name, n);
                MemoryMarshal.Write(dst, double.IsFinite(d) ? d : OutOfRange<double>(type, name, n));
                return;
            case TensorDataType.FP16:
                var h = (Half)Double(ref reader, name, n);
                MemoryMarshal.Write(dst, Half.IsFinite(h) ? h : OutOfRange<Half>(type, name, n));
                return;
            case TensorDataType.BF16:
                ushort bf = BFloat16.FromSingle((float)Double(ref reader, name, n));
                MemoryMarshal.Write(dst, BFloat16.IsFinite(bf) ? bf : OutOfRange<ushort>(type, name, n));
                return;
            default:
                break;
        }

        if (!reader.TryGetInt64(out long v))
        {
            BadInput.Throw($"input '{name}': element {n} must be an integer for {type.ProtocolName()}");
        }

        switch (type)
        {
            case TensorDataType.UInt8:
                dst[0] = (byte)InRange(v, byte.MinValue, byte.MaxValue, type, name, n);
                break;
            case TensorDataType.Int8:
                dst[0] = (byte)(sbyte)InRange(v, sbyte.MinValue, sbyte.MaxValue, type, name, n);
                break;
            case TensorDataType.Int16:
                MemoryMarshal.Write(dst, (short)InRange(v, short.MinValue, short.MaxValue, type, name, n));
                break;
            case TensorDataType.Int32:
                MemoryMarshal.Write(dst, (int)InRange(v, int.MinValue, int.MaxValue, type, name, n));
                break;
            default:
                MemoryMarshal.Write(dst, v);
                break;
        }
    }

    /// <summary>A BYTES element (an entity id): a JSON string, its UTF-8 bytes stored as sent, unescaped on the stack when escaped.</summary>
    private static void WriteString(ref Utf8JsonReader reader, scoped Span<byte> dst, TensorConfig spec, int n)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            BadInput.Throw($"input '{spec.Name}': element {n} must be a string (BYTES)");
        }

        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            BytesElements.Write(dst, n, reader.ValueSpan, spec);
            return;
        }

        // Unescaping only shortens, by at most six to one: past that the id cannot fit.
        long sent = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (sent > 6L * spec.MaxElementBytes)
        {
            BadInput.Throw($"input '{spec.Name}': the id of row {n} is over the {spec.MaxElementBytes} bytes this input takes (its max_id_bytes in the model's features.entities)");
        }

        Span<byte> utf8 = stackalloc byte[(int)sent];
        int length;
        try
        {
            length = reader.CopyString(utf8);
        }
        catch (InvalidOperationException)
        {
            length = BadInput.Throw<int>($"input '{spec.Name}': the id of row {n} is not valid Unicode (a lone surrogate escape)");
        }

        BytesElements.Write(dst, n, utf8[..length], spec);
    }

    private static double Double(ref Utf8JsonReader reader, string name, int n) =>
        reader.TryGetDouble(out double d) ? d : BadInput.Throw<double>($"input '{name}': element {n} is not a number");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T OutOfRange<T>(TensorDataType type, string name, int n) =>
        BadInput.Throw<T>($"input '{name}': element {n} is out of range for {type.ProtocolName()}");

    private static long InRange(long v, long min, long max, TensorDataType type, string name, int n) =>
        v >= min && v <= max ? v : BadInput.Throw<long>($"input '{name}': element {n} ({v}) is out of range for {type.ProtocolName()}");

    /// <summary>
    /// A string's UTF-8 bytes as the client means them (escapes resolved): where they lie when sent
    /// plain, copied when escaped or split across the body's segments, which past
    /// <see cref="MaxUnescapedBytes"/> as sent is refused rather than copied.
    /// </summary>
    private static ReadOnlySpan<byte> Text(ref Utf8JsonReader reader, Where where, string field) =>
        !reader.ValueIsEscaped && !reader.HasValueSequence ? reader.ValueSpan : Unescaped(ref reader, where, field);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte[] Unescaped(ref Utf8JsonReader reader, Where where, string field)
    {
        long sent = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (sent > MaxUnescapedBytes)
        {
            BadInput.Throw($"{(where.List is null ? field : where + field)} is longer than {MaxUnescapedBytes} bytes");
        }

        return Encoding.UTF8.GetBytes(reader.GetString()!);
    }

    /// <summary>
    /// The property name or string at the reader, quoted for an error (<see cref="ClientText"/>): a
    /// long one escaped or split is quoted from its first bytes as sent, never made a string whole.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Quoted(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return ClientText.Quoted(reader.ValueSpan);
        }

        long sent = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (sent <= MaxUnescapedBytes)
        {
            return ClientText.Quoted(reader.GetString());
        }

        var head = reader.HasValueSequence ? reader.ValueSequence.Slice(0, MaxUnescapedBytes).ToArray() : reader.ValueSpan[..MaxUnescapedBytes].ToArray();
        return ClientText.Quoted(head, sent);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            BadInput.Throw("the JSON body ends too early");
        }

        return reader.TokenType;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what) => Expect(ref reader, type, default, what);

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, Where where, string field)
    {
        if (Next(ref reader) != type)
        {
            string what = where.List is null ? field : where + field;
            BadInput.Throw($"'{what}' must be {(type == JsonTokenType.String ? "a string" : type == JsonTokenType.StartArray ? "an array" : "an object")}");
        }
    }

    /// <summary>The binary tensors after the JSON, taken in input order.</summary>
    private struct BinaryInputs(ReadOnlySequence<byte> data, bool present)
    {
        private long _taken;

        public readonly long Remaining => data.Length - _taken;

        public ReadOnlySequence<byte> Take(long size, string input)
        {
            if (!present)
            {
                BadInput.Throw($"input '{input}' has parameters.binary_data_size, but the request has no {BinaryTensorData.HeaderName} header giving the JSON's length");
            }

            if (size > Remaining)
            {
                BadInput.Throw($"input '{input}': parameters.binary_data_size is {size} but only {Remaining} bytes of binary data are left after the JSON and the inputs before it");
            }

            var slice = data.Slice(_taken, size);
            _taken += size;
            return slice;
        }
    }
}
