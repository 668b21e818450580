using LowLatency.Features.Definitions;

namespace LowLatency.Tests.Features;

/// <summary>A running server the contract tests can point an online store at.</summary>
public interface IStoreFixture : IDisposable
{
    /// <summary>The store definition that reaches it, under <paramref name="name"/>.</summary>
    OnlineStoreDefinition Store(string name = "default");
}
