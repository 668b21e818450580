using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Kestrel, started on the listeners bound in code alone (<see cref="Listeners"/>, which bind the
/// <c>urls</c> themselves beside gRPC's). The host hands Kestrel the <c>urls</c> it read at start-up
/// (from the command line, before any setting can change them); Kestrel ignores them once a listener
/// is bound in code, but warns at every start that it did ("Overriding address(es)"). Cleared here
/// before Kestrel starts, they are neither bound twice nor warned about.
/// </summary>
internal sealed class CodeBoundServer(IServer kestrel) : IServer
{
    public IFeatureCollection Features => kestrel.Features;

    /// <summary>Replaces the server's registration with this wrapper around it.</summary>
    public static void Register(IServiceCollection services)
    {
        var original = services.Last(d => d.ServiceType == typeof(IServer));
        services.Remove(original);
        services.AddSingleton<IServer>(s => new CodeBoundServer(original.ImplementationFactory is { } factory
            ? (IServer)factory(s)
            : original.ImplementationInstance as IServer ?? (IServer)ActivatorUtilities.CreateInstance(s, original.ImplementationType!)));
    }

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        if (kestrel.Features.Get<IServerAddressesFeature>() is { Addresses.IsReadOnly: false } addresses)
        {
            addresses.Addresses.Clear();
        }

        return kestrel.StartAsync(application, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => kestrel.StopAsync(cancellationToken);

    public void Dispose() => kestrel.Dispose();
}
