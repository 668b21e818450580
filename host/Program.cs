using LowLatency.Engine.Config;
using LowLatency.Host;

try
{
    var app = LowLatencyServer.Build(args);
    app.Run();
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
