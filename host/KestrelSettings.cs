using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LowLatency.Host;

/// <summary>
/// Kestrel's own settings (<c>Kestrel:Limits</c>, <c>Kestrel:Limits:Http2</c>, <c>Kestrel:AllowSynchronousIO</c>, ...)
/// bound from the Kestrel section, which ASP.NET Core reads only for endpoints and certificates. A value
/// that does not bind stops start-up naming its key, before Kestrel would throw it at its first use.
/// </summary>
internal static class KestrelSettings
{
    public const string Section = "Kestrel";

    // Read by Kestrel's configuration loader, not KestrelServerOptions' properties.
    private static readonly string[] LoaderSections = ["Endpoints", "EndpointDefaults", "Certificates"];

    public static void Add(WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(Section);
        Check(section);
        builder.Services.Configure<KestrelServerOptions>(section);
    }

    private static void Check(IConfigurationSection section)
    {
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null || Array.Exists(LoaderSections, s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            // One key at a time: a setter's range error does not say which key it came from.
            var alone = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
            try
            {
                alone.Bind(new KestrelServerOptions());
            }
            catch (Exception e) when (e is InvalidOperationException or TargetInvocationException or ArgumentException)
            {
                var why = e is TargetInvocationException { InnerException: { } inner } ? inner : e.InnerException ?? e;
                throw new StartupRefusedException($"{Section}:{key} = '{value}': {FirstLine(why.Message)}");
            }
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
