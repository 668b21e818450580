using LowLatency.Engine.Config;
using LowLatency.Native.Torch;

namespace LowLatency.Engine.Execution;

/// <summary>
/// A loaded TorchScript module. Its <c>forward</c> takes the config's inputs in order and returns a
/// tensor, or a tuple or list of tensors in the config's output order.
/// </summary>
internal sealed class TorchScriptModel : IDisposable
{
    private readonly TorchScriptModule _module;
    private int _disposed;

    private TorchScriptModel(TorchScriptModule module, string path)
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

        TorchScriptModule module;
        try
        {
            module = TorchScriptModule.Load(path);
        }
        catch (Exception e)
        {
            // libtorch's load errors lead with the reason and trail a native stack; keep the reason.
            string reason = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is [var first, ..] ? first : e.Message;
            throw new ModelConfigException(path, $"not a TorchScript file libtorch can load: {reason}", e);
        }

        _ = config;
        return new TorchScriptModel(module, path);
    }

    /// <summary>
    /// Runs forward on the calling thread; fills <paramref name="outputs"/> (one per configured
    /// output, in order) with tensors the caller owns, or throws with nothing left to free.
    /// </summary>
    public void Forward(ReadOnlySpan<TensorHandle> inputs, Span<TensorHandle> outputs)
    {
        int returned = _module.Forward(inputs, outputs);
        if (returned != outputs.Length)
        {
            for (int i = 0; i < Math.Min(returned, outputs.Length); i++)
            {
                outputs[i].Dispose();
                outputs[i] = default;
            }

            throw new InvalidOperationException($"the model returned {returned} outputs, its configuration names {outputs.Length}");
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
