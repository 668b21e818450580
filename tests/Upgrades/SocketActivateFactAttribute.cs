namespace LowLatency.Tests.Upgrades;

/// <summary>A test that needs Debian's <c>systemd-socket-activate</c>: skipped, saying so, where it is not installed (.ci/run installs it).</summary>
public sealed class SocketActivateFactAttribute : FactAttribute
{
    public const string Launcher = "/usr/bin/systemd-socket-activate";

    public SocketActivateFactAttribute()
    {
        if (!File.Exists(Launcher))
        {
            Skip = $"{Launcher} is not installed (apt-get install systemd; .ci/run installs it)";
        }
    }
}
