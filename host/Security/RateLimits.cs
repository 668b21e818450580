using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using LowLatency.Engine.Config;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Security;

/// <summary>
/// The limiters (System.Threading.RateLimiting token buckets, partitioned by client and by model;
/// idle partitions are dropped by the partitioned limiter). A request over a limit is answered 429
/// at once with <c>Retry-After</c>; it never queues. Off (no settings): one flag test per request.
/// </summary>
internal sealed class RateLimits : IDisposable
{
    private readonly RateLimitSettings _settings;
    private readonly PartitionedRateLimiter<string>? _clients;
    private readonly PartitionedRateLimiter<string>? _models;

    /// <param name="settings">Valid settings: the server refuses to start on any of their <see cref="RateLimitSettings.Problems"/>.</param>
    public RateLimits(RateLimitSettings settings)
    {
        if (settings.Problems().FirstOrDefault() is { } problem)
        {
            throw new ArgumentException(problem, nameof(settings));
        }

        _settings = settings;
        if (settings.PerClient is { } perClient)
        {
            _clients = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => Bucket(perClient)));
        }

        if (settings.PerModel.Count > 0)
        {
            _models = PartitionedRateLimiter.Create<string, string>(model =>
                settings.PerModel.TryGetValue(model, out var o) || settings.PerModel.TryGetValue("*", out o)
                    ? RateLimitPartition.GetTokenBucketLimiter(model, _ => Bucket(o))
                    : RateLimitPartition.GetNoLimiter(model));
        }
    }

    public bool Enabled => _settings.Enabled;

    /// <summary>
    /// Takes a token from <paramref name="client"/>'s bucket alone: requests that name no model (the
    /// feature routes) spend the same per-client budget as inference.
    /// </summary>
    public Refusal? AcquireClient(string client) =>
        _clients is not null && !Take(_clients, client, out var retryAfter)
            ? Refused($"rate limit exceeded for client {ClientText.Quoted(client)}: {_settings.PerClient!.TokensPerSecond} requests/s, burst {_settings.PerClient.Burst} (LowLatency:RateLimits:PerClient)", retryAfter)
            : null;

    /// <summary>Takes a token for <paramref name="client"/> and <paramref name="model"/>: null, or the 429 naming the limit, with when to retry.</summary>
    public Refusal? Acquire(string client, string model)
    {
        if (AcquireClient(client) is { } refused)
        {
            return refused;
        }

        if (_models is not null && !Take(_models, model, out var retryAfter))
        {
            var o = _settings.PerModel.GetValueOrDefault(model) ?? _settings.PerModel["*"];
            return Refused($"rate limit exceeded for model {ClientText.Quoted(model)}: {o.TokensPerSecond} requests/s, burst {o.Burst} (LowLatency:RateLimits:PerModel)", retryAfter);
        }

        return null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal Refused(string message, TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests, message, Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture));

    private static bool Take(PartitionedRateLimiter<string> limiter, string key, out TimeSpan retryAfter)
    {
        using var lease = limiter.AttemptAcquire(key);
        retryAfter = !lease.IsAcquired && lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.Zero;
        return lease.IsAcquired;
    }

    private static TokenBucketRateLimiterOptions Bucket(RateLimitOptions o)
    {
        // Refill in small steps so a sustained rate is smooth: every 100 ms, or once per token
        // when fewer than ten arrive per second.
        var period = o.TokensPerSecond >= 10 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1 / o.TokensPerSecond);
        int perPeriod = o.TokensPerSecond >= 10 ? (int)Math.Max(1, Math.Round(o.TokensPerSecond / 10)) : 1;
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, o.Burst),
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    public void Dispose()
    {
        _clients?.Dispose();
        _models?.Dispose();
    }
}
