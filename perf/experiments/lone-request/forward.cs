#:project ../../../native/LowLatency.Native.csproj
#:property TieredPGO=true
// A model's forward alone: the TorchScript module called at batch 1 on this one thread in a
// tight loop (inference mode, one intra-op thread, as the device workers run it), no engine around it.
// Inputs by the model's folder: ctr-ranker [1,26]+[1,13], text-encoder two [1,17] (its batch1 golden's
// length), image-classifier [1,3,64,64]. Prints the median and p90 of 5 rounds' per-call medians, in
// µs, as one line breakdown.sh and models.sh parse.
//   dotnet run perf/experiments/lone-request/forward.cs -c Release -- [model.pt] [seconds per round]
using System.Diagnostics;
using System.Globalization;
using LowLatency.Native.Torch;
using TorchSharp;

string path = args.Length > 0 ? args[0] : "models/ctr-ranker/1/model.pt";
double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 2;
LibTorchLoader.EnsureLoaded();
torch.set_num_threads(1);
using var mode = torch.inference_mode();
using var module = torch.jit.load(path);
module.eval();
torch.Tensor[] inputs = path.Contains("text-encoder", StringComparison.Ordinal) ? [torch.ones([1, 17], torch.int64), torch.ones([1, 17], torch.int64)]
    : path.Contains("image-classifier", StringComparison.Ordinal) ? [torch.zeros([1, 3, 64, 64], torch.float32)]
    : [torch.zeros([1, 26], torch.int64), torch.zeros([1, 13], torch.float32)];

// Between timed calls, as serving has them (EVICT_KB: other work touches that much memory, evicting the
// model's weights and activations from the caches; IDLE_MS: the thread sleeps, its core may idle).
int evictKb = int.Parse(Environment.GetEnvironmentVariable("EVICT_KB") ?? "0", CultureInfo.InvariantCulture);
int idleMs = int.Parse(Environment.GetEnvironmentVariable("IDLE_MS") ?? "0", CultureInfo.InvariantCulture);
// SPIN_US: the thread spins that long instead (its core stays busy, touching no memory).
int spinUs = int.Parse(Environment.GetEnvironmentVariable("SPIN_US") ?? "0", CultureInfo.InvariantCulture);
var evict = new byte[evictKb * 1024];

double Call()
{
    for (int i = 0; i < evict.Length; i += 64)
    {
        evict[i]++;
    }

    if (idleMs > 0)
    {
        Thread.Sleep(idleMs);
    }

    if (spinUs > 0)
    {
        long until = Stopwatch.GetTimestamp() + spinUs * Stopwatch.Frequency / 1_000_000;
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(20);
        }
    }

    long t0 = Stopwatch.GetTimestamp();
    using (var scope = torch.NewDisposeScope())
    {
        _ = inputs.Length == 1 ? module.call(inputs[0]) : module.call(inputs[0], inputs[1]);
    }

    return Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
}

// WARM_SIZES=1,8,16: first called at those batch sizes, three rounds, as the engine's warm-up does
// (its sizes: 1, the preferred sizes and max_batch_size), then timed at batch 1 as above.
foreach (var size in (Environment.GetEnvironmentVariable("WARM_SIZES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
{
    long rows = long.Parse(size, CultureInfo.InvariantCulture);
    var sized = inputs.Select(t => torch.ones(t.shape.Select((d, i) => i == 0 ? rows : d).ToArray(), t.dtype)).ToArray();
    for (int round = 0; round < 3; round++)
    {
        using var scope = torch.NewDisposeScope();
        _ = sized.Length == 1 ? module.call(sized[0]) : module.call(sized[0], sized[1]);
    }
}

for (int i = 0; i < 3000; i++)
{
    Call();
}


var medians = new List<double>();
var p90s = new List<double>();
for (int round = 0; round < 5; round++)
{
    var samples = new List<double>();
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        samples.Add(Call());
    }

    samples.Sort();
    medians.Add(samples[samples.Count / 2]);
    p90s.Add(samples[samples.Count * 9 / 10]);
}

medians.Sort();
p90s.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"forward\tp50 {medians[2]:F1} us\tp90 {p90s[2]:F1} us\trounds p50 {string.Join(' ', medians.Select(m => m.ToString("F1", CultureInfo.InvariantCulture)))}"));
