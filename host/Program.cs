using LowLatency.Engine.Config;
using LowLatency.Host;

bool built = false, serving = false;
try
{
    var app = LowLatencyServer.Build(args);
    built = true;
    // Read by the catch below, after the host is disposed (its lifetime with it).
    app.Lifetime.ApplicationStarted.Register(() => serving = true);
    app.Run();
    if (NativeTeardown.Skip)
    {
        // The host is disposed, its log written: end before libtorch's static destructors run.
        await Console.Out.FlushAsync();
        await Console.Error.FlushAsync();
        LowLatency.Native.Processes.ProcessExit.Immediately(Environment.ExitCode);
    }

    return Environment.ExitCode;
}
catch (ModelConfigException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 2;
}
catch (StartupRefusedException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 2;
}
catch (Exception e) when (!serving)
{
    // The server could not start serving: a listener's address taken (an old instance, say) or not
    // permitted, a certificate that cannot be read. A line that names it, not a crash and its core
    // dump; the details after it when the host had not logged them (it logs a failed start). The
    // models' loader may still be inside libtorch (the host does not stop what it started), so the
    // process ends without libtorch's static destructors.
    await Console.Error.WriteLineAsync($"error: {StartupFailure.Describe(e)}");
    if (!built)
    {
        await Console.Error.WriteLineAsync(e.ToString());
    }

    await Console.Error.FlushAsync();
    LowLatency.Native.Processes.ProcessExit.Immediately(2);
    return 2;
}
