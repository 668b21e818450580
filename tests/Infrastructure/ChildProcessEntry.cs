using System.Globalization;
using LowLatency.Tests.EndToEnd;

namespace LowLatency.Tests.Infrastructure;

/// <summary>
/// The test assembly's entry point (the test SDK's empty one is turned off), for measurements that
/// need a process of their own: <c>dotnet LowLatency.Tests.dll host-allocation ENCODING</c> prints
/// one line, <c>host-allocation: PER_REQUEST IDLE_PER_SECOND WINDOW,WINDOW,...</c>, among
/// whatever the server logs. The test runner never calls it.
/// </summary>
public static class ChildProcessEntry
{
    public const string HostAllocation = "host-allocation";

    public static async Task<int> Main(string[] args)
    {
        if (args is not [HostAllocation, var encoding])
        {
            await Console.Error.WriteLineAsync($"usage: LowLatency.Tests.dll {HostAllocation} msgpack|binary|json|msgpack-joined|msgpack-joined-string");
            return 2;
        }

        var result = await HostAllocationProbe.MeasureAsync(encoding);
        var windows = string.Join(',', result.Windows.Select(w => w.ToString("F1", CultureInfo.InvariantCulture)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{HostAllocation}: {result.PerRequest:F1} {result.IdlePerSecond:F0} {windows}"));
        return 0;
    }
}
