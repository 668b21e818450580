using System.Runtime.InteropServices;

namespace LowLatency.Native.Torch;

/// <summary>
/// LibTorchSharp's error slot, read directly: it reports a failure by leaving a message in a
/// per-thread slot and returning a null result. TorchSharp's <c>torch.CheckForErrors</c> does the
/// same but allocates on each thread's first call, which a new worker thread's first batch then
/// paid on the managed heap.

/// </summary>
public static partial class NativeErrors
{
    /// <summary>Throws libtorch's message if the last call on this thread left one; otherwise nothing.</summary>
    public static void ThrowIfAny()
    {
        IntPtr error = THSTorch_get_and_reset_last_err();
        if (error != IntPtr.Zero)
        {
            Throw(error);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static unsafe void Throw(IntPtr error)
    {
        // The slot held a strdup'd copy that is now ours.
        string message = Marshal.PtrToStringUTF8(error) ?? "libtorch reported an error without a message";
        NativeMemory.Free((void*)error);
        throw new ExternalException(message);
    }

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTorch_get_and_reset_last_err();
}
