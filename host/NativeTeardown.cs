namespace LowLatency.Host;

/// <summary>
/// Whether the process may run the native libraries' teardown when it exits: not while a model load
/// abandoned at the drain deadline is still inside libtorch on the loader thread (a warm-up batch
/// there can outlast the deadline), whose static destructors would then crash the process with
/// SIGSEGV instead of the exit code its drain earned. Set by the shutdown, read by Program once the
/// host is disposed.
/// </summary>
internal static class NativeTeardown
{
    private static volatile bool s_skip;

    public static bool Skip => s_skip;

    public static void SkipAtExit() => s_skip = true;
}
