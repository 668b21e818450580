using System.Runtime.InteropServices;
using TorchSharp;

namespace LowLatency.Native.Torch;

/// <summary>
/// A libtorch tensor held as LibTorchSharp's bare handle (a <c>torch::Tensor*</c>), with no managed
/// wrapper: a <see cref="torch.Tensor"/> is a finalizable object per tensor, and the engine makes
/// and drops tensors on every batch. Whoever creates one disposes it exactly once; a copy of the
/// struct is the same tensor, not another reference.
/// </summary>
public readonly unsafe partial struct TensorHandle
{
    private readonly IntPtr _handle;

    /// <summary>Takes ownership of a handle that LibTorchSharp returned.</summary>
    public TensorHandle(IntPtr handle) => _handle = handle;

    public IntPtr Pointer => _handle;

    public bool IsNull => _handle == IntPtr.Zero;

    public torch.ScalarType Type => (torch.ScalarType)THSTensor_type(_handle);

    public int Dimensions => (int)THSTensor_ndimension(_handle);

    public bool OnCpu => THSTensor_device_type(_handle) == (int)DeviceType.CPU;

    public bool IsContiguous => THSTensor_is_contiguous(_handle);

    /// <summary>The first byte of the data: meaningful for contiguous CPU tensors only.</summary>
    public byte* Data => (byte*)THSTensor_data(_handle);

    /// <summary>Dimension <paramref name="dimension"/>'s size; 0 ≤ dimension &lt; <see cref="Dimensions"/>.</summary>
    public long Size(int dimension) => THSTensor_size(_handle, dimension);

    /// <summary>The sizes as an array, for error messages (allocates).</summary>
    public long[] Shape()
    {
        var shape = new long[Dimensions];
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = Size(d);
        }

        return shape;
    }

    /// <summary>Copies <paramref name="source"/> into this tensor (broadcast, cast and device rules as libtorch's <c>copy_</c>).</summary>
    public void CopyFrom(TensorHandle source)
    {
        THSTensor_copy_(_handle, source._handle, false);
        NativeErrors.ThrowIfAny();
    }

    /// <summary>Drops this reference (libtorch frees the tensor with its last one).</summary>
    public void Dispose() => THSTensor_dispose(_handle);

    /// <summary>
    /// A tensor viewing <paramref name="data"/>, which must stay allocated until the tensor and every
    /// view of it are disposed; libtorch never frees it (the deleter does nothing). No copy, no GC
    /// handle and no delegate: <c>torch.from_array</c> allocates both on every call, and
    /// <c>torch.frombuffer</c> over a <c>byte[]</c> with another dtype copies (TorchSharp 0.107).

    /// </summary>
    public static TensorHandle View(void* data, ReadOnlySpan<long> shape, torch.ScalarType type)
    {
        IntPtr handle;
        fixed (long* dims = shape)
        {
            handle = THSTensor_new((IntPtr)data, &KeepAlive, (IntPtr)dims, shape.Length, (sbyte)type, (sbyte)type, 0, 0, false);
        }

        if (handle == IntPtr.Zero)
        {
            NativeErrors.ThrowIfAny();
        }

        return new TensorHandle(handle);
    }

    [UnmanagedCallersOnly]
    private static void KeepAlive(IntPtr data)
    {
    }

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_new(IntPtr data, delegate* unmanaged<IntPtr, void> deleter, IntPtr dims, int ndims, sbyte type, sbyte dtype, int deviceType, int deviceIndex, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    [LibraryImport("LibTorchSharp")]
    private static partial sbyte THSTensor_type(IntPtr handle);

    [LibraryImport("LibTorchSharp")]
    private static partial long THSTensor_ndimension(IntPtr handle);

    [LibraryImport("LibTorchSharp")]
    private static partial long THSTensor_size(IntPtr handle, long dimension);

    [LibraryImport("LibTorchSharp")]
    private static partial int THSTensor_device_type(IntPtr handle);

    [LibraryImport("LibTorchSharp")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool THSTensor_is_contiguous(IntPtr handle);

    // In 0.107 the in-place copy returns no new tensor (its code allocates none); errors go to the
    // native last-error slot (NativeErrors).
    [LibraryImport("LibTorchSharp")]
    private static partial void THSTensor_copy_(IntPtr handle, IntPtr source, [MarshalAs(UnmanagedType.U1)] bool nonBlocking);

    [LibraryImport("LibTorchSharp")]
    private static partial void THSTensor_dispose(IntPtr handle);
}
