using System.Text;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>What both decoders do once a tensor's fields are read: resolve names and types, or say why not.</summary>
internal static class RequestFields
{
    public const int MaxRank = 16;

    public static int Input(InferenceRequest request, ReadOnlySpan<byte> name)
    {
        int index = request.Model.Config.InputIndex(name);
        if (index < 0)
        {
            BadInput.Throw($"unknown input '{Encoding.UTF8.GetString(name)}' for model '{request.Model.Config.Name}'; it takes {Names(request.Model.Config.Inputs)}");
        }

        return index;
    }

    public static int Output(InferenceRequest request, ReadOnlySpan<byte> name)
    {
        int index = request.Model.Config.OutputIndex(name);
        if (index < 0)
        {
            BadInput.Throw($"unknown output '{Encoding.UTF8.GetString(name)}' for model '{request.Model.Config.Name}'; it gives {Names(request.Model.Config.Outputs)}");
        }

        return index;
    }

    public static TensorDataType DataType(ReadOnlySpan<byte> datatype, string input)
    {
        if (!TensorDataTypes.TryParseProtocol(datatype, out var type))
        {
            BadInput.Throw($"input '{input}': unknown or unsupported datatype '{Encoding.UTF8.GetString(datatype)}'; use BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32 or FP64");
        }

        return type;
    }

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
