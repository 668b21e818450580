using System.Runtime.InteropServices;

namespace LowLatency.Native.Processes;

/// <summary>The process's end without the C library's teardown.</summary>
public static partial class ProcessExit
{
    /// <summary>
    /// Ends the process now with <paramref name="code"/> through _exit(2): no atexit handlers and no
    /// C++ static destructors, which in libtorch crash (SIGSEGV) while another thread is still inside
    /// it. The caller flushes what it needs written first.
    /// </summary>
    public static void Immediately(int code) => Exit(code);

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void Exit(int code);
}
