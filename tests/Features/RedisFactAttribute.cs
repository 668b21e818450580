namespace LowLatency.Tests.Features;

/// <summary>A test that needs Debian's redis-server (and redis-cli): skipped, saying so, where it is not installed.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (!RedisServerProcess.Installed)
        {
            Skip = "redis-server is not installed (apt-get install redis-server; .ci/run installs it)";
        }
    }
}
