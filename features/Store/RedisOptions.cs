using StackExchange.Redis;

namespace LowLatency.Features.Store;

/// <summary>
/// StackExchange.Redis's options for a feature store, from a connection string. Unless the string
/// sets them: never give up on a server that is down at start-up (the client reconnects by itself,
/// backing off from 100 ms to 2 s), fail a command at once while its server is disconnected instead
/// of queueing it until it times out (a request waiting on features has a deadline; a cached or
/// default value now beats a fresh one too late), and time out a command after 1 s.
/// </summary>
internal static class RedisOptions
{
    public static ConfigurationOptions For(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy ??= new ExponentialRetry(100, 2000);
        options.ClientName ??= "lowlatency-features";
        if (!Sets(connectionString, "asyncTimeout"))
        {
            options.AsyncTimeout = 1000;
        }

        if (!Sets(connectionString, "connectTimeout"))
        {
            options.ConnectTimeout = 2000;
        }

        return options;
    }

    private static bool Sets(string connectionString, string option) =>
        connectionString.Contains(option + "=", StringComparison.OrdinalIgnoreCase);
}
