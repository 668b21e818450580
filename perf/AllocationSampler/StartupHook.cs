using System.Globalization;
using LowLatency.AllocationSampler;

/// <summary>
/// Loaded into any .NET process by <c>DOTNET_STARTUP_HOOKS=&lt;path&gt;/LowLatency.AllocationSampler.dll</c>:
/// every <c>ALLOC_SAMPLER_PERIOD_MS</c> (default 5000) it appends what the process allocated in
/// that period, by type (top 25, sampled every ~100 KB), and its collections, to
/// <c>ALLOC_SAMPLER_OUT</c> (default alloc-sampler.txt). The runtime finds it by this exact name,
/// outside any namespace.
/// </summary>
internal static class StartupHook
{
    private static AllocationSampler? s_sampler;

    public static void Initialize()
    {
        s_sampler = new AllocationSampler();
        int period = int.Parse(Environment.GetEnvironmentVariable("ALLOC_SAMPLER_PERIOD_MS") ?? "5000", CultureInfo.InvariantCulture);
        string path = Environment.GetEnvironmentVariable("ALLOC_SAMPLER_OUT") ?? "alloc-sampler.txt";
        new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(period);
                Write(path);
            }
        })
        { IsBackground = true, Name = "alloc-sampler" }.Start();
    }

    private static void Write(string path)
    {
        var (bytes, collections) = s_sampler!.Take();
        long total = 0;
        foreach (var v in bytes.Values)
        {
            total += v;
        }

        if (total == 0)
        {
            return;
        }

        using var w = File.AppendText(path);
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--- {DateTime.UtcNow:HH:mm:ss} {total / 1e6:F1} MB sampled, {collections} collections"));
        foreach (var (type, b) in bytes.OrderByDescending(kv => kv.Value).Take(25))
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{b / 1e6,8:F2} MB  {type}"));
        }
    }
}
