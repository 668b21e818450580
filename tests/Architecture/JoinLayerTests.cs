using LowLatency.Join;

namespace LowLatency.Tests.Architecture;

/// <summary>
/// The join is the one place the engine and the feature store meet: it uses both and neither uses
/// it (their own tests check that), and it knows nothing of HTTP or gRPC, so every face calls it alike.
/// </summary>
public sealed class JoinLayerTests
{
    [Fact]
    public void The_join_uses_the_engine_and_the_feature_store_and_no_face()
    {
        var referenced = typeof(FeatureJoiner).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.Contains("LowLatency.Engine", referenced);
        Assert.Contains("LowLatency.Features", referenced);
        Assert.DoesNotContain("LowLatency.Host", referenced);
        Assert.DoesNotContain("Microsoft.AspNetCore.Http.Abstractions", referenced);
        Assert.DoesNotContain("Grpc.Core.Api", referenced);
    }
}
