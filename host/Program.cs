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
