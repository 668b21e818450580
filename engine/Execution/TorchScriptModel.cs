using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// A loaded TorchScript module. Its <c>forward</c> takes the config's inputs in order and returns a
/// tensor, or a tuple or list of tensors in the config's output order.
/// </summary>
public sealed class TorchScriptModel : IDisposable
{
    private readonly torch.jit.ScriptModule _module;
    private int _disposed;

    private TorchScriptModel(torch.jit.ScriptModule module, string path)
    {
        _module = module;
        Path = path;
        Handles.Add(1);
    }

    public string Path { get; }

    /// <summary>Native handles of this module and of everything run on it (arenas, views, held outputs).</summary>
    public NativeHandleCount Handles { get; } = new();

    public static TorchScriptModel Load(string path, ModelConfig config)
    {
        if (!File.Exists(path))
        {
            throw new ModelConfigException(path, "model file not found");
        }

        torch.jit.ScriptModule module;
        try
        {
            module = torch.jit.load(path, DeviceType.CPU);
        }
        catch (Exception e)
        {
            // libtorch's load errors lead with the reason and trail a native stack; keep the reason.
            string reason = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is [var first, ..] ? first : e.Message;
            throw new ModelConfigException(path, $"not a TorchScript file libtorch can load: {reason}", e);
        }

        module.eval();
        _ = config;
        return new TorchScriptModel(module, path);
    }

    /// <summary>Runs forward; returns the outputs as tensors in order (owned by the caller's dispose scope).</summary>
    public void Forward(object[] inputs, torch.Tensor[] outputs)
    {
        object result = _module.call(inputs);
        switch (result)
        {
            case torch.Tensor t:
                Expect(outputs.Length, 1);
                outputs[0] = t;
                break;
            case torch.Tensor[] ts:
                Expect(outputs.Length, ts.Length);
                ts.CopyTo(outputs, 0);
                break;
            case ITuple tuple:
                Expect(outputs.Length, tuple.Length);
                for (int i = 0; i < tuple.Length; i++)
                {
                    outputs[i] = tuple[i] as torch.Tensor ?? throw new InvalidOperationException($"output {i} of the model is not a tensor");
                }

                break;
            case System.Collections.IList list:
                Expect(outputs.Length, list.Count);
                for (int i = 0; i < list.Count; i++)
                {
                    outputs[i] = list[i] as torch.Tensor ?? throw new InvalidOperationException($"output {i} of the model is not a tensor");
                }

                break;
            default:
                throw new InvalidOperationException($"the model returned {result?.GetType().Name ?? "nothing"}, not tensors");
        }
    }

    private static void Expect(int configured, int returned)
    {
        if (configured != returned)
        {
            throw new InvalidOperationException($"the model returned {returned} outputs, its configuration names {configured}");
        }
    }

    internal static string FirstLine(string message)
    {
        // TorchScript errors carry the script's traceback; the last non-empty line holds the raised error.
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? message : lines[^1];
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _module.Dispose();
            Handles.Add(-1);
        }
    }
}
