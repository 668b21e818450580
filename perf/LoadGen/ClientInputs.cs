using System.Globalization;
using System.Text.Json;
using LowLatency.Client;

namespace LowLatency.LoadGen;

/// <summary>A golden case's request as LowLatency.Client's inputs and options, built once per run.</summary>
internal static class ClientInputs
{
    public static (InferInput[] Inputs, InferOptions Options) FromGolden(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var request = doc.RootElement.TryGetProperty("request", out var r) ? r : doc.RootElement;
        var inputs = request.GetProperty("inputs").EnumerateArray().Select(t =>
        {
            string name = t.GetProperty("name").GetString()!;
            long[] shape = [.. t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
            var data = t.GetProperty("data").EnumerateArray();
            return t.GetProperty("datatype").GetString() switch
            {
                "INT64" => InferInput.Create(name, data.Select(v => v.GetInt64()).ToArray(), shape),
                "INT32" => InferInput.Create(name, data.Select(v => v.GetInt32()).ToArray(), shape),
                "FP32" => InferInput.Create(name, data.Select(v => v.GetSingle()).ToArray(), shape),
                "FP64" => InferInput.Create(name, data.Select(v => v.GetDouble()).ToArray(), shape),
                var other => throw new NotSupportedException($"datatype {other} in {path}"),
            };
        }).ToArray();

        // Request parameters as the raw encoders send them: priority, qos, timeout (µs).
        int priority = 0;
        QosClass? qos = null;
        TimeSpan? timeout = null;
        if (request.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in parameters.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "priority":
                        priority = p.Value.GetInt32();
                        break;
                    case "qos":
                        qos = Enum.Parse<QosClass>(p.Value.GetString()!, ignoreCase: true);
                        break;
                    case "timeout":
                        timeout = TimeSpan.FromMicroseconds(p.Value.GetInt64());
                        break;
                    default:
                        throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"request parameter '{p.Name}' in {path}: the client sends priority, qos and timeout"));
                }
            }
        }

        return (inputs, new InferOptions { Priority = priority, Qos = qos, Timeout = timeout });
    }
}
