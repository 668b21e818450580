using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LowLatency.Host;

/// <summary>
/// Kestrel's own settings (<c>Kestrel:Limits</c>, <c>Kestrel:Limits:Http2</c>, <c>Kestrel:AllowSynchronousIO</c>, ...)
/// from the Kestrel section, which ASP.NET Core reads only for endpoints and certificates. A key
/// Kestrel does not have, a value it would refuse, or two limits that contradict each other stop
/// start-up naming the key, rather than being ignored or thrown at Kestrel's start.
/// </summary>
internal static class KestrelSettings
{
    public const string Section = "Kestrel";

    // Read by Kestrel's configuration loader, not KestrelServerOptions' properties.
    private static readonly string[] LoaderSections = ["Endpoints", "EndpointDefaults", "Certificates"];

    // MinDataRate has no setters, so the binder would pass over these without a word: read by hand.
    private const string BodyRate = "Limits:MinRequestBodyDataRate";
    private const string ResponseRate = "Limits:MinResponseDataRate";

    public static void Add(WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(Section);
        var settings = Read(section);
        var trial = new KestrelServerOptions();
        Apply(settings, trial);
        CheckBuffers(trial);
        builder.Services.Configure<KestrelServerOptions>(o => Apply(settings, o));
    }

    private sealed record Settings(IConfiguration Plain, (bool Set, MinDataRate? Rate) Body, (bool Set, MinDataRate? Rate) Response);

    private static void Apply(Settings settings, KestrelServerOptions options)
    {
        settings.Plain.Bind(options);
        if (settings.Body.Set)
        {
            options.Limits.MinRequestBodyDataRate = settings.Body.Rate;
        }

        if (settings.Response.Set)
        {
            options.Limits.MinResponseDataRate = settings.Response.Rate;
        }
    }

    private static Settings Read(IConfigurationSection section)
    {
        var plain = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null || Under(key, LoaderSections) || Under(key, [BodyRate, ResponseRate]))
            {
                continue;
            }

            // One key at a time: a setter's range error does not say which key it came from.
            var alone = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
            try
            {
                alone.Bind(new KestrelServerOptions(), o => o.ErrorOnUnknownConfiguration = true);
            }
            catch (Exception e) when (e is InvalidOperationException or TargetInvocationException or ArgumentException)
            {
                throw Refused(key, value, e is TargetInvocationException { InnerException: { } inner } ? inner : e.InnerException ?? e);
            }

            plain[key] = value;
        }

        return new Settings(new ConfigurationBuilder().AddInMemoryCollection(plain).Build(), Rate(section, BodyRate), Rate(section, ResponseRate));
    }

    /// <summary>A minimum data rate: empty (<c>Kestrel:Limits:MinRequestBodyDataRate=</c>) for none, else both its fields.</summary>
    private static (bool Set, MinDataRate? Rate) Rate(IConfigurationSection kestrel, string name)
    {
        var rate = kestrel.GetSection(name);
        if (!rate.Exists())
        {
            return (false, null);
        }

        if (rate.Value is { } whole)
        {
            return string.IsNullOrWhiteSpace(whole) ? (true, null) : throw Refused(name, whole, new FormatException("empty for no minimum, or set BytesPerSecond and GracePeriod"));
        }

        foreach (var child in rate.GetChildren())
        {
            if (!child.Key.Equals("BytesPerSecond", StringComparison.OrdinalIgnoreCase) && !child.Key.Equals("GracePeriod", StringComparison.OrdinalIgnoreCase))
            {
                throw Refused($"{name}:{child.Key}", child.Value ?? "", new FormatException("a minimum data rate has BytesPerSecond and GracePeriod"));
            }
        }

        string? bytes = rate["BytesPerSecond"], grace = rate["GracePeriod"];
        if (!double.TryParse(bytes, NumberStyles.Float, CultureInfo.InvariantCulture, out double perSecond))
        {
            throw Refused($"{name}:BytesPerSecond", bytes ?? "", new FormatException("a number of bytes per second is required"));
        }

        if (!TimeSpan.TryParse(grace, CultureInfo.InvariantCulture, out var period))
        {
            throw Refused($"{name}:GracePeriod", grace ?? "", new FormatException("a time span (hh:mm:ss) is required"));
        }

        try
        {
            return (true, new MinDataRate(perSecond, period));
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw Refused(name, $"{bytes} B/s, {grace}", e);
        }
    }

    // Kestrel's own check at its start (KestrelServerImpl.ValidateOptions), made here to name the keys.
    private static void CheckBuffers(KestrelServerOptions options)
    {
        var limits = options.Limits;
        if (limits.MaxRequestBufferSize is { } buffer && (buffer < limits.MaxRequestLineSize || buffer < limits.MaxRequestHeadersTotalSize))
        {
            throw new StartupRefusedException(
                $"{Section}:Limits:MaxRequestBufferSize ({buffer}) must be at least {Section}:Limits:MaxRequestLineSize ({limits.MaxRequestLineSize}) and {Section}:Limits:MaxRequestHeadersTotalSize ({limits.MaxRequestHeadersTotalSize})");
        }
    }

    private static bool Under(string key, string[] sections)
    {
        foreach (var s in sections)
        {
            if (key.Equals(s, StringComparison.OrdinalIgnoreCase) || key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static StartupRefusedException Refused(string key, string value, Exception why) =>
        new($"{Section}:{key} = '{value}': {why.Message.Split('\n')[0].Trim()}");
}
