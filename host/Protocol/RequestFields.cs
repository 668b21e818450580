using System.Text;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>What both decoders do once a tensor's fields are read: resolve names and types, or say why not.</summary>
internal static class RequestFields
{
    public const int MaxRank = 16;

    /// <summary>
    /// The longest <c>id</c> accepted, in UTF-8 bytes: the answer echoes it, so its size is the
    /// client's to choose only up to here. A UUID is 36; a W3C traceparent 55.
    /// </summary>
    public const int MaxIdBytes = 256;

    public static int Input(InferenceRequest request, ReadOnlySpan<byte> name)
    {
        int index = request.Config.InputIndex(name);
        if (index < 0)
        {
            BadInput.Throw($"unknown input {ClientText.Quoted(name)} for model '{request.Config.Name}'; it takes {Names(request.Config.ClientInputs)}");
        }

        return index;
    }

    public static int Output(InferenceRequest request, ReadOnlySpan<byte> name)
    {
        int index = request.Config.OutputIndex(name);
        if (index < 0)
        {
            BadInput.Throw($"unknown output {ClientText.Quoted(name)} for model '{request.Config.Name}'; it gives {Names(request.Config.Outputs)}");
        }

        return index;
    }

    public static TensorDataType DataType(ReadOnlySpan<byte> datatype, string input)
    {
        if (!TensorDataTypes.TryParseProtocol(datatype, out var type))
        {
            UnknownDataType(ClientText.Quoted(datatype), input);
        }

        return type;
    }

    /// <param name="quoted">The datatype as the client sent it, quoted (<see cref="ClientText"/>).</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static void UnknownDataType(string quoted, string input) =>
        BadInput.Throw($"input '{input}': unknown or unsupported datatype {quoted}; use BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32 or FP64 (or BYTES for the ids of a STRING entity)");

    /// <summary>The <c>qos</c> parameter, as UTF-8.</summary>
    public static QosClass Qos(ReadOnlySpan<byte> value) =>
        value.SequenceEqual("realtime"u8) ? QosClass.Realtime
            : value.SequenceEqual("balanced"u8) ? QosClass.Balanced
            : value.SequenceEqual("throughput"u8) ? QosClass.Throughput
            : BadInput.Throw<QosClass>($"parameters.qos {ClientText.Quoted(value)} is not realtime, balanced or throughput");

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static string IdTooLong() => BadInput.Throw<string>($"'id' is longer than {MaxIdBytes} bytes, the most this server accepts");

    public static string Names(IReadOnlyList<TensorConfig> list)
    {
        var sb = new StringBuilder();
        foreach (var t in list)
        {
            sb.Append(sb.Length == 0 ? "'" : ", '").Append(t.Name).Append('\'');
        }

        return sb.ToString();
    }
}
