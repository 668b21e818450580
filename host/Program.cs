using LowLatency.Engine.Config;
using LowLatency.Host;

try
{
    var app = LowLatencyServer.Build(args);
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
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // Another process holds a listener's address (an old instance, say): a line that names it, not a
    // crash and its core dump. The models' loader may still be inside libtorch (the host does not stop
    // what it started), so the process ends without libtorch's static destructors.
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    await Console.Error.FlushAsync();
    LowLatency.Native.Processes.ProcessExit.Immediately(2);
    return 2;
}
