using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using MessagePack;

namespace LowLatency.Host.Protocol;

/// <summary>Writes inference responses and errors in either encoding: MessagePack answers straight into the response pipe, the rest through <see cref="ResponseBuffer"/>.</summary>
internal static class ResponseWriter
{
    /// <param name="degraded">Why a fallback answered (written as <c>parameters.degraded</c>); null for a normal answer.</param>
    /// <param name="featureStatuses">A feature join's rows that were not all present (<c>parameters.feature_statuses</c>); null when they were.</param>
    /// <param name="binary">The outputs a JSON request asked for as binary data: their JSON carries
    /// <c>parameters.binary_data_size</c> instead of <c>data</c>, and <see cref="WriteBinaryTensors"/>
    /// sends their bytes after it. MessagePack answers carry every tensor as bytes already.</param>
    public static void WriteInference(IBufferWriter<byte> body, WireFormat format, InferenceRequest request, string? degraded = null, BinaryOutputs binary = default, string? featureStatuses = null)
    {
        if (format == WireFormat.MsgPack)
        {
            WriteMsgPack(body, request, degraded, featureStatuses);
        }
        else
        {
            WriteJson(body, request, degraded, binary, featureStatuses);
        }
    }

    /// <summary>How many bytes of binary tensors follow a JSON answer written with <paramref name="binary"/>; 0 for a plain JSON answer.</summary>
    public static long BinaryLength(InferenceRequest request, BinaryOutputs binary)
    {
        long length = 0;
        for (int o = 0; o < request.OutputCount; o++)
        {
            if (request.OutputRequested(o) && binary.IsBinary(o))
            {
                length += request.OutputData(o).Length;
            }
        }

        return length;
    }

    /// <summary>The binary outputs' bytes, in output order, straight from the batch's output tensors.</summary>
    public static void WriteBinaryTensors(IBufferWriter<byte> body, InferenceRequest request, BinaryOutputs binary)
    {
        for (int o = 0; o < request.OutputCount; o++)
        {
            if (request.OutputRequested(o) && binary.IsBinary(o))
            {
                body.Write(request.OutputData(o));
            }
        }
    }

    /// <summary>
    /// The longest error message written, in characters; past it a message is cut, marked. Messages
    /// quote at most a short prefix of what a client sent (<see cref="ClientText"/>): this bounds the
    /// rest, such as a model's own error text.
    /// </summary>
    public const int MaxErrorChars = 8192;

    public static void WriteError(IBufferWriter<byte> body, WireFormat format, string message)
    {
        message = ClientText.Truncate(message, MaxErrorChars);
        if (format == WireFormat.MsgPack)
        {
            var w = new MessagePackWriter(body);
            w.WriteMapHeader(1);
            w.WriteString("error"u8);
            w.Write(message);
            w.Flush();
        }
        else
        {
            using var w = new Utf8JsonWriter(body, MinimalJsonEncoder.WriterOptions);
            w.WriteStartObject();
            w.WriteString("error"u8, message);
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// The exact length of <see cref="WriteInference"/>'s MessagePack answer, to send as Content-Length
    /// instead of chunked framing: everything but the tensor bytes is encoded into a reused scratch
    /// buffer (a few hundred bytes), the tensor bytes are counted, not copied. The same code writes
    /// both, so the two cannot disagree.
    /// </summary>
    public static long MsgPackLength(InferenceRequest request, string? degraded, string? featureStatuses = null)
    {
        var sizing = SizingBuffer.ForThisThread();
        var w = new MessagePackWriter(sizing);
        long skipped = WriteMsgPack(ref w, request, degraded, featureStatuses, sizing: true);
        w.Flush();
        return sizing.Written + skipped;
    }

    private static void WriteMsgPack(IBufferWriter<byte> body, InferenceRequest request, string? degraded, string? featureStatuses)
    {
        var w = new MessagePackWriter(body);
        WriteMsgPack(ref w, request, degraded, featureStatuses, sizing: false);
        w.Flush();
    }

    /// <returns>The tensor bytes left out when <paramref name="sizing"/> (their headers are written).</returns>
    private static long WriteMsgPack(ref MessagePackWriter w, InferenceRequest request, string? degraded, string? featureStatuses, bool sizing)
    {
        var config = request.Config;
        long skipped = 0;
        bool parameters = degraded is not null || featureStatuses is not null;
        w.WriteMapHeader((request.Id is null ? 3 : 4) + (parameters ? 1 : 0));
        if (parameters)
        {
            w.WriteString("parameters"u8);
            w.WriteMapHeader((degraded is null ? 0 : 2) + (featureStatuses is null ? 0 : 1));
            if (degraded is not null)
            {
                w.WriteString("degraded"u8);
                w.Write(true);
                w.WriteString("degraded_reason"u8);
                w.Write(degraded);
            }

            if (featureStatuses is not null)
            {
                w.WriteString("feature_statuses"u8);
                w.Write(featureStatuses);
            }
        }

        w.WriteString("model_name"u8);
        w.Write(config.Name);
        w.WriteString("model_version"u8);
        w.Write(request.Version);
        if (request.Id is not null)
        {
            w.WriteString("id"u8);
            w.Write(request.Id);
        }

        w.WriteString("outputs"u8);
        w.WriteArrayHeader(CountRequested(request));
        for (int o = 0; o < request.OutputCount; o++)
        {
            if (!request.OutputRequested(o))
            {
                continue;
            }

            var spec = config.Outputs[o];
            w.WriteMapHeader(4);
            w.WriteString("name"u8);
            w.WriteString(spec.NameUtf8);
            w.WriteString("datatype"u8);
            w.WriteString(spec.DataType.ProtocolNameUtf8());
            w.WriteString("shape"u8);
            var shape = request.OutputShape(o);
            w.WriteArrayHeader(shape.Length);
            foreach (var d in shape)
            {
                w.Write(d);
            }

            w.WriteString("data"u8);
            var data = request.OutputData(o);
            w.WriteBinHeader(data.Length);
            if (sizing)
            {
                skipped += data.Length;
            }
            else
            {
                w.WriteRaw(data);
            }
        }

        return skipped;
    }

    // One JSON writer per thread, reset onto each answer's body: a new one per answer was ~150 B of
    // every binary and JSON request. It keeps a reference to the last body until the next answer.
    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    private static Utf8JsonWriter JsonWriter(IBufferWriter<byte> body)
    {
        var w = t_json;
        if (w is null)
        {
            t_json = w = new Utf8JsonWriter(body, MinimalJsonEncoder.WriterOptions);
        }
        else
        {
            w.Reset(body);
        }

        return w;
    }

    private static void WriteJson(IBufferWriter<byte> body, InferenceRequest request, string? degraded, BinaryOutputs binary, string? featureStatuses)
    {
        var config = request.Config;
        var w = JsonWriter(body);
        w.WriteStartObject();
        if (degraded is not null || featureStatuses is not null)
        {
            w.WriteStartObject("parameters"u8);
            if (degraded is not null)
            {
                w.WriteBoolean("degraded"u8, true);
                w.WriteString("degraded_reason"u8, degraded);
            }

            if (featureStatuses is not null)
            {
                w.WriteString("feature_statuses"u8, featureStatuses);
            }

            w.WriteEndObject();
        }

        w.WriteString("model_name"u8, config.Name);
        w.WriteString("model_version"u8, request.Version);
        if (request.Id is not null)
        {
            w.WriteString("id"u8, request.Id);
        }

        w.WriteStartArray("outputs"u8);
        for (int o = 0; o < request.OutputCount; o++)
        {
            if (!request.OutputRequested(o))
            {
                continue;
            }

            var spec = config.Outputs[o];
            w.WriteStartObject();
            w.WriteString("name"u8, spec.NameUtf8);
            w.WriteString("datatype"u8, spec.DataType.ProtocolNameUtf8());
            w.WriteStartArray("shape"u8);
            foreach (var d in request.OutputShape(o))
            {
                w.WriteNumberValue(d);
            }

            w.WriteEndArray();
            if (binary.IsBinary(o))
            {
                w.WriteStartObject("parameters"u8);
                w.WriteNumber("binary_data_size"u8, request.OutputData(o).Length);
                w.WriteEndObject();
            }
            else
            {
                w.WriteStartArray("data"u8);
                WriteJsonData(w, spec.DataType, request.OutputData(o));
                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
    }

    private static void WriteJsonData(Utf8JsonWriter w, TensorDataType type, ReadOnlySpan<byte> data)
    {
        switch (type)
        {
            case TensorDataType.Bool:
                foreach (var b in data)
                {
                    w.WriteBooleanValue(b != 0);
                }

                break;
            case TensorDataType.UInt8:
                foreach (var b in data)
                {
                    w.WriteNumberValue(b);
                }

                break;
            case TensorDataType.Int8:
                foreach (var b in MemoryMarshal.Cast<byte, sbyte>(data))
                {
                    w.WriteNumberValue(b);
                }

                break;
            case TensorDataType.Int16:
                foreach (var v in MemoryMarshal.Cast<byte, short>(data))
                {
                    w.WriteNumberValue(v);
                }

                break;
            case TensorDataType.Int32:
                foreach (var v in MemoryMarshal.Cast<byte, int>(data))
                {
                    w.WriteNumberValue(v);
                }

                break;
            case TensorDataType.Int64:
                foreach (var v in MemoryMarshal.Cast<byte, long>(data))
                {
                    w.WriteNumberValue(v);
                }

                break;
            case TensorDataType.FP16:
                foreach (var v in MemoryMarshal.Cast<byte, Half>(data))
                {
                    WriteFloat(w, (float)v);
                }

                break;
            case TensorDataType.BF16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(data))
                {
                    WriteFloat(w, BFloat16.ToSingle(v));
                }

                break;
            case TensorDataType.FP32:
                foreach (var v in MemoryMarshal.Cast<byte, float>(data))
                {
                    WriteFloat(w, v);
                }

                break;
            default:
                foreach (var v in MemoryMarshal.Cast<byte, double>(data))
                {
                    WriteDouble(w, v);
                }

                break;
        }
    }

    // JSON has no NaN or infinities; write them as Python's json module does, so a model's NaN is
    // reported rather than failing the response.
    private static void WriteFloat(Utf8JsonWriter w, float v)
    {
        if (float.IsFinite(v))
        {
            w.WriteNumberValue(v);
        }
        else
        {
            WriteNonFinite(w, v);
        }
    }

    private static void WriteDouble(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v))
        {
            w.WriteNumberValue(v);
        }
        else
        {
            WriteNonFinite(w, v);
        }
    }

    private static void WriteNonFinite(Utf8JsonWriter w, double v) =>
        w.WriteRawValue(double.IsNaN(v) ? "NaN"u8 : v > 0 ? "Infinity"u8 : "-Infinity"u8, skipInputValidation: true);

    private static int CountRequested(InferenceRequest request)
    {
        int n = 0;
        for (int o = 0; o < request.OutputCount; o++)
        {
            n += request.OutputRequested(o) ? 1 : 0;
        }

        return n;
    }

    /// <summary>Counts what a writer advances over a scratch buffer it keeps (one per thread, reused): sizing, not output.</summary>
    private sealed class SizingBuffer : IBufferWriter<byte>
    {
        [ThreadStatic]
        private static SizingBuffer? _forThisThread;

        private byte[] _scratch = new byte[512];

        public long Written { get; private set; }

        public static SizingBuffer ForThisThread()
        {
            var b = _forThisThread ??= new SizingBuffer();
            b.Written = 0;
            return b;
        }

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint);

        private byte[] Scratch(int sizeHint)
        {
            if (sizeHint > _scratch.Length)
            {
                // A long id or degraded reason: grown once, kept for the thread's later answers.
                _scratch = new byte[Math.Max(sizeHint, _scratch.Length * 2)];
            }

            return _scratch;
        }
    }
}
