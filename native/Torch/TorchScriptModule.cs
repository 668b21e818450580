using System.Runtime.InteropServices;
using TorchSharp;

namespace LowLatency.Native.Torch;

/// <summary>
/// A TorchScript module called through LibTorchSharp's own entry points, without TorchSharp's
/// <c>ScriptModule</c>: its <c>call</c> allocates per call an argument array, a delegate and its
/// closure, result lists and a finalizable result allocator that it never unregisters from
/// finalization, so every call leaves an object for the finalizer
/// (docs/architecture.md#torchscript-without-torchsharps-wrappers). Here the arguments are a stack
/// array, and the module writes its results into a per-thread native block, so a call allocates
/// nothing managed.
/// Calls may come from several threads at once (one module per version, several workers).
/// </summary>
public sealed unsafe partial class TorchScriptModule : IDisposable
{
    private IntPtr _handle;

    private TorchScriptModule(IntPtr handle) => _handle = handle;

    /// <summary>Loads a TorchScript file onto the CPU, in eval mode; throws libtorch's error when it cannot.</summary>
    public static TorchScriptModule Load(string path)
    {
        IntPtr handle = THSJIT_load(path, (long)DeviceType.CPU, -1);
        if (handle == IntPtr.Zero)
        {
            NativeErrors.ThrowIfAny();
            throw new ExternalException($"libtorch loaded nothing from {path} and reported no error");
        }

        var module = new TorchScriptModule(handle);
        THSJIT_Module_eval(handle);
        NativeErrors.ThrowIfAny();
        return module;
    }

    /// <summary>
    /// Runs <c>forward</c> on <paramref name="inputs"/>. The model must return a tensor, or a tuple
    /// or list of tensors: their handles go to <paramref name="outputs"/> in order (the caller owns
    /// and disposes them) and their number is returned; any beyond <paramref name="outputs"/>' length
    /// are disposed here. Anything else returned is disposed and refused with an exception, as is a
    /// failure inside the model (libtorch's message).
    /// </summary>
    public int Forward(ReadOnlySpan<TensorHandle> inputs, Span<TensorHandle> outputs)
    {
        ObjectDisposedException.ThrowIf(_handle == IntPtr.Zero, this);
        var results = ForwardResults.ForThisThread();
        var args = stackalloc ForwardResults.Entry[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            args[i] = new ForwardResults.Entry(0, -1, inputs[i].Pointer);
        }

        sbyte code = 0;
        THSJIT_Module_forward(_handle, args, inputs.Length, &ForwardResults.Allocate, &code, 0);
        try
        {
            NativeErrors.ThrowIfAny();
        }
        catch
        {
            // A failure after the model answered (the result block was full): free what it returned.
            results->DisposeAll(code);
            throw;
        }

        return results->TakeTensors(code, outputs);
    }

    public void Dispose()
    {
        var handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (handle != IntPtr.Zero)
        {
            THSJIT_Module_dispose(handle);
        }
    }

    [LibraryImport("LibTorchSharp", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr THSJIT_load(string filename, long deviceType, long deviceIndex);

    [LibraryImport("LibTorchSharp")]
    private static partial void THSJIT_Module_eval(IntPtr module);

    [LibraryImport("LibTorchSharp")]
    private static partial void THSJIT_Module_dispose(IntPtr module);

    // The allocator is called back on this thread, once per returned tensor, tuple or list, with
    // the running array index (starting at idx) and the array's length.
    [LibraryImport("LibTorchSharp")]
    private static partial void THSJIT_Module_forward(IntPtr module, ForwardResults.Entry* args, int length, delegate* unmanaged<int, nuint, ForwardResults.Entry*> allocator, sbyte* typeCode, int idx);
}
