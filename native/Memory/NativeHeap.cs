using System.Runtime.InteropServices;

namespace LowLatency.Native.Memory;

/// <summary>
/// The C heap (libtorch's tensors live there): glibc keeps what is freed in its arenas for reuse,
/// so after a burst of large tensors the process stays large; <see cref="Trim"/> hands the free
/// pages back to the system.
/// </summary>
public static partial class NativeHeap
{
    private static volatile bool _unavailable;

    /// <summary>glibc's <c>malloc_trim(0)</c>: whether memory went back; false where there is none (musl, not Linux).</summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux() || _unavailable)
        {
            return false;
        }

        try
        {
            return MallocTrim(0) != 0;
        }
        catch (EntryPointNotFoundException)
        {
            _unavailable = true;
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
