using System.Runtime.InteropServices;

namespace LowLatency.Engine.Execution;

/// <summary>
/// A 64-byte aligned block of native memory that tensor views point into. Owned by one device worker;
/// grows (rarely, off the steady state) when a batch needs more than it holds.
/// </summary>
internal sealed unsafe class NativeArena : IDisposable
{
    private const int Alignment = 64;

    public NativeArena(long bytes)
    {
        Capacity = Math.Max(Alignment, bytes);
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Capacity, Alignment);
    }

    public byte* Pointer { get; private set; }

    public long Capacity { get; private set; }

    public Span<byte> Span(long bytes) => new(Pointer, checked((int)bytes));

    /// <summary>Makes room for <paramref name="bytes"/>; the contents are not preserved. True when the memory moved.</summary>
    public bool EnsureCapacity(long bytes)
    {
        if (bytes <= Capacity)
        {
            return false;
        }

        NativeMemory.AlignedFree(Pointer);
        Capacity = Math.Max(bytes, Capacity * 2);
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Capacity, Alignment);
        return true;
    }

    public void Dispose()
    {
        if (Pointer != null)
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
