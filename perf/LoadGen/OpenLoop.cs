using System.Diagnostics;
using System.Net.Http.Headers;

namespace LowLatency.LoadGen;

/// <summary>
/// Open-loop load: request k is due at its intended time (constant spacing or Poisson arrivals) and
/// is sent then whether or not earlier ones were answered; its latency is measured from the intended
/// time, so time a request spent waiting because the client or server fell behind is counted.
/// </summary>
internal static class OpenLoop
{
    public static async Task RunAsync(ISender sender, Options options, RunClock clock)
    {
        var inFlight = new List<Task>();
        // The pacing loop gets a thread of its own: it yields rather than spins while waiting, so on
        // a small machine it leaves the cores to the server as far as it can.
        await Task.Factory.StartNew(Pace, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAll(inFlight);

        void Pace()
        {
            var random = new Random(42);
            double intervalTicks = Stopwatch.Frequency / options.Rate;
            double next = Stopwatch.GetTimestamp();
            while (true)
            {
                long intended = (long)next;
                if (intended >= clock.End)
                {
                    break;
                }

                // Wait for the intended time: sleep while far, yield the last stretch.
                long now;
                while ((now = Stopwatch.GetTimestamp()) < intended)
                {
                    if (intended - now > Stopwatch.Frequency / 500)
                    {
                        Thread.Sleep(1);
                    }
                    else
                    {
                        Thread.Yield();
                    }
                }

                inFlight.Add(SendAsync(intended));
                if (inFlight.Count >= 4096)
                {
                    inFlight.RemoveAll(t => t.IsCompleted);
                }

                next += options.Arrival == "poisson" ? -Math.Log(1 - random.NextDouble()) * intervalTicks : intervalTicks;
            }
        }

        Task SendAsync(long intended)
        {
            return sender.SendAsync(intended, clock.WarmupEnd);
        }
    }
}
