using LowLatency.Engine.Serving;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Endpoints;
using LowLatency.Host.Grpc;
using LowLatency.Host.Memory;
using LowLatency.Host.Security;
using LowLatency.Join;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting.Systemd;

namespace LowLatency.Host;

/// <summary>Builds the server: settings, the engine (its repository validated up front), Kestrel, routes.</summary>
internal static class LowLatencyServer
{
    public const string DefaultUrl = "http://127.0.0.1:8000";

    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--model-repository"] = "LowLatency:ModelRepository",
        ["--grpc-urls"] = "LowLatency:Grpc:Urls",
        ["--feature-repository"] = "LowLatency:FeatureRepository",
    };

    /// <summary>
    /// Builds the application; <paramref name="configure"/> sees the builder after the server's own
    /// registrations (tests use it). Throws <see cref="ModelConfigException"/> when
    /// the repository holds a configuration that cannot be served, naming the file and field.
    /// </summary>
    /// <remarks><paramref name="configureEngine"/> sees the engine's options once bound (tests wrap its runners to inject faults).</remarks>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<EngineOptions>? configureEngine = null)
    {
        // Settings come from the appsettings.json beside the binary wherever it is started from
        // (relative paths such as the model repository still resolve against the working directory).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, SwitchMappings);
        var section = builder.Configuration.GetSection("LowLatency");
        var engineOptions = SettingsBinder.Bind<EngineOptions>(section);
        configureEngine?.Invoke(engineOptions);
        var serverOptions = SettingsBinder.Bind<ServerOptions>(section);
        var access = SettingsBinder.Bind<AccessOptions>(section.GetSection("Auth"));
        var tls = SettingsBinder.Bind<TlsOptions>(section.GetSection("Tls"));
        var grpc = SettingsBinder.Bind<GrpcOptions>(section.GetSection("Grpc"));
        string[] problems = [.. engineOptions.Problems(), .. serverOptions.Problems(), .. access.Problems(section.GetSection("Auth"))];
        if (problems.Length > 0)
        {
            throw new StartupRefusedException(string.Join("; ", problems));
        }

        var featureRepository = FeatureStoreStartup.Read(serverOptions);
        // Models that join features are linked to the repository as they are read: one whose join does
        // not fit stops start-up (or its load) naming the field. Without a repository they are not loaded.
        var streams = StreamProcessing.Read(section.GetSection("Streams"), featureRepository);
        var joinPlans = featureRepository is null ? null : new JoinPlans(featureRepository);
        engineOptions.CheckConfig = joinPlans is null ? null : joinPlans.Check;

        bool restUrlsSet = !string.IsNullOrEmpty(builder.Configuration["urls"]) || !string.IsNullOrEmpty(builder.Configuration["http_ports"])
            || !string.IsNullOrEmpty(builder.Configuration["https_ports"]) || builder.Configuration.GetSection("Kestrel:Endpoints").Exists();
        if (!restUrlsSet && !grpc.Enabled)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // The guard counts only what is in force: keys and certificates as loaded, not the settings naming them.
        // The gRPC listener is under it as every other: its URLs are endpoints like the rest.
        var jwtKeys = access.Jwt is { } jwt ? Refusing(() => JwtKeys.Load(jwt, section.GetSection("Auth:Jwt").Path)) : null;
        var credentials = Refusing(() => Tls.Load(tls));
        // Sockets handed in by systemd replace the URLs of their kind, and the guard reads where they are bound.
        var handed = HandedSockets.Take(https: credentials is not null);
        bool grpcServed = grpc.Enabled || handed.Grpc.Any();
        var endpoints = handed.Rest.Any() ? handed.Rest.Select(s => s.Endpoint).ToList() : BindCheck.Endpoints(builder.Configuration, DefaultUrl);
        endpoints.AddRange(handed.Grpc.Any() ? handed.Grpc.Select(s => s.Endpoint) : grpc.UrlList.Select(u => new ListenEndpoint(u)));
        if (BindCheck.Refusal(builder.Configuration, endpoints, access.Enabled, credentials, serverOptions.AllowInsecure) is { } refusal)
        {
            throw new StartupRefusedException(refusal);
        }

        Tls.Configure(builder, credentials);
        var rateLimits = SettingsBinder.Bind<RateLimitSettings>(section.GetSection("RateLimits"));
        RefuseFirst(rateLimits.Problems());
        builder.Services.AddSingleton(new RateLimits(rateLimits));
        Access.AddAuthentication(builder, access, jwtKeys);
        var tracing = SettingsBinder.Bind<TracingOptions>(section.GetSection("Tracing"));
        RefuseFirst(tracing.Problems());
        Tracing.Add(builder, tracing);
        if (serverOptions.ReusePort)
        {
            ReusePort.Use(builder);
        }

        // Before any model loads: a replacement already under way refuses this one at once.
        var handover = Handover.Take(serverOptions.PidFile);
        builder.Services.AddSingleton(handover);

        // Kestrel's own settings from its section (Limits, Limits:Http2, ...); the two set below stay this server's.
        KestrelSettings.Add(builder);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // The infer endpoint enforces its own limit so a too-large body gets a 413 in the request's encoding.
            k.Limits.MaxRequestBodySize = null;
            k.AddServerHeader = false;
        });

        var engine = new InferenceEngine(engineOptions);
        engine.Scan();
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(GatewayStartup.Open(engineOptions));
        builder.Services.AddSingleton(serverOptions);
        builder.Services.AddSingleton<Unanswered>();
        builder.Services.AddSingleton(new BodyBudget(serverOptions.BodyBudgetBytes));
        // Kestrel's buffers from a pool that pins at most 8 MiB and lets the trim drop what a burst
        // needed past that (registered after WebApplication's own factory: Kestrel resolves the last),
        // and a burst's memory given back once it is over.
        var pools = new BoundedBlockPoolFactory();
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(pools);
        builder.Services.AddHostedService(s => new MemoryTrim(s.GetRequiredService<BodyBudget>(), pools, serverOptions.TrimAfterBurstBytes, s.GetRequiredService<ILogger<MemoryTrim>>()));
        // Type=notify: READY=1 once the models are warm and Kestrel listens, STOPPING=1 at SIGTERM (EngineLoader).
        builder.Services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
        builder.Services.AddHostedService<EngineLoader>();
        // The host's timer starts at SIGTERM, before the drain delay (which runs in ApplicationStopping):
        // the timeout covers both, so that requests get DrainTimeoutSeconds after the delay.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = serverOptions.DrainDeadline);
        if (grpcServed)
        {
            ServingGrpc.Add(builder, grpc, serverOptions, restUrlsSet ? RestUrls(builder.Configuration) : [DefaultUrl], handed);
        }
        else if (handed.Rest.Any())
        {
            // Only the handed-in sockets: the urls are cleared before Kestrel starts, not bound beside them.
            CodeBoundServer.Register(builder.Services);
            builder.WebHost.ConfigureKestrel(k =>
            {
                foreach (var socket in handed.Rest)
                {
                    k.ListenHandle((ulong)socket.Descriptor, o =>
                    {
                        if (socket.Https)
                        {
                            o.UseHttps();
                        }
                    });
                }
            });
        }

        configure?.Invoke(builder);

        var features = featureRepository is null ? null : FeatureStoreStartup.Open(builder, featureRepository);
        if (features is not null)
        {
            builder.Services.AddSingleton(new FeatureJoiner(joinPlans!, features.Online));
            if (streams is not null)
            {
                StreamProcessing.Add(builder, streams, features);
            }
        }
        WebApplication app;
        try
        {
            app = builder.Build();
        }
        catch when (features is not null)
        {
            features.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        if (features is not null)
        {
            FeatureStoreStartup.CloseWhenStopped(app, features);
        }

        handover.Listen(app.Lifetime);
        if (app.Services.GetService<ReusePort>() is { } reusePort)
        {
            app.Lifetime.ApplicationStarted.Register(() => reusePort.Steer(app.Services.GetRequiredService<ILogger<ReusePort>>()));
        }

        // First, so that every answer during the drain delay closes its connection, refusals included.
        DrainingResponses.Use(app);

        // Inference ahead of endpoint routing, which the routes after it need (their endpoint's metadata).
        InferenceEndpoint.Map(app, app.Services.GetRequiredService<ServerOptions>().MaxRequestBodyBytes, grpcServed ? GrpcListenerFeature.On : null);
        if (grpcServed)
        {
            GrpcInferEndpoint.UseAheadOfRouting(app);
        }

        app.UseRouting();
        if (grpcServed)
        {
            // Before any route answers: each listener serves its own routes only.
            ListenerSeparation.Use(app);
            HealthAccess.Use(app);
        }

        Access.GuardOperations(app);
        HealthEndpoints.Map(app);
        MetricsEndpoint.Map(app);
        MetadataEndpoints.Map(app);
        StatisticsEndpoint.Map(app);
        RepositoryEndpoints.Map(app);
        GatewayStartup.Map(app);
        FeatureEndpoints.Map(app, app.Services.GetRequiredService<ServerOptions>().MaxRequestBodyBytes);
        if (grpcServed)
        {
            ServingGrpc.Map(app);
        }

        return app;
    }

    /// <summary>
    /// The REST URLs Kestrel would bind from <c>urls</c> or else <c>http_ports</c>/<c>https_ports</c>, for
    /// the listeners bound in code beside gRPC's; none when <c>Kestrel:Endpoints</c> is configured (Kestrel binds those itself).
    /// </summary>
    private static List<string> RestUrls(IConfiguration config)
    {
        if (config.GetSection("Kestrel:Endpoints").Exists())
        {
            return [];
        }

        if (config["urls"] is { Length: > 0 } urls)
        {
            return [.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        var list = new List<string>();
        foreach (var (key, scheme) in new[] { ("http_ports", "http"), ("https_ports", "https") })
        {
            if (config[key] is { Length: > 0 } ports)
            {
                list.AddRange(ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"{scheme}://*:{p}"));
            }
        }

        return list;
    }

    private static T Refusing<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (InvalidSettingException e)
        {
            throw new StartupRefusedException(e.Message);
        }
    }

    private static void RefuseFirst(IEnumerable<string> problems)
    {
        if (problems.FirstOrDefault() is { } problem)
        {
            throw new StartupRefusedException(problem);
        }
    }
}
