using System.Runtime.InteropServices;
using TorchSharp;

namespace LowLatency.Native.Torch;

/// <summary>
/// Tensors over memory the engine owns (pinned, 64-byte aligned arenas), with no copy, no GC handle
/// and no delegate per call: <c>torch.from_array</c> allocates both on every call, and
/// <c>torch.frombuffer</c> over a <c>byte[]</c> with another dtype copies (measured with 0.107).
/// </summary>
public static unsafe partial class NativeTensor
{
    /// <summary>
    /// A tensor viewing <paramref name="data"/>, which must stay allocated until the tensor and every
    /// view of it are disposed; libtorch never frees it (the deleter does nothing).
    /// </summary>
    public static torch.Tensor View(void* data, ReadOnlySpan<long> shape, torch.ScalarType type)
    {
        IntPtr handle;
        fixed (long* dims = shape)
        {
            handle = THSTensor_new((IntPtr)data, &KeepAlive, (IntPtr)dims, shape.Length, (sbyte)type, (sbyte)type, 0, 0, false);
        }

        if (handle == IntPtr.Zero)
        {
            torch.CheckForErrors();
        }

        return torch.Tensor.UnsafeCreateTensor(handle);
    }

    /// <summary>The first byte of a tensor's data: contiguous CPU tensors only.</summary>
    public static byte* Data(torch.Tensor tensor) => (byte*)THSTensor_data(tensor.Handle);

    [UnmanagedCallersOnly]
    private static void KeepAlive(IntPtr data)
    {
    }

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_new(IntPtr data, delegate* unmanaged<IntPtr, void> deleter, IntPtr dims, int ndims, sbyte type, sbyte dtype, int deviceType, int deviceIndex, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);
}
