using LowLatency.Native.Threading;

namespace LowLatency.Tests.Infrastructure;

/// <summary>Cores of this process's affinity mask, for tests that pin threads to them.</summary>
internal static class AllowedCores
{
    /// <summary>The first two; the tests that need them fail naming why where the process has fewer (CI machines have two).</summary>
    public static (int First, int Second) FirstTwo()
    {
        var cores = new List<int>();
        for (int core = 0; core < 1024 && cores.Count < 2; core++)
        {
            if (ThreadTuning.MayRunOn(core))
            {
                cores.Add(core);
            }
        }

        Assert.True(cores.Count == 2, "this test needs a process allowed on two cores at least (CI machines have two)");
        return (cores[0], cores[1]);
    }
}
