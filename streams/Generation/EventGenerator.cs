namespace LowLatency.Streams.Generation;

/// <summary>
/// A deterministic synthetic event log (the same options and seed give the same events): users drawn
/// by a Zipf law, times advancing by a step (or the wall clock), a fraction moved back a little
/// (out of order, within the watermark delay) and a fraction moved back a lot (late, or too late),
/// impressions with a click now and then, items and integer dwell times (so sums are exact in any order).
/// </summary>
public sealed class EventGenerator
{
    private readonly EventGeneratorOptions _options;
    private readonly Random _random;
    private readonly double[] _cumulative;
    private long _index;

    public EventGenerator(EventGeneratorOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _cumulative = new double[options.Keys];
        double total = 0;
        for (int k = 0; k < options.Keys; k++)
        {
            total += 1 / Math.Pow(k + 1, options.Skew);
            _cumulative[k] = total;
        }

        for (int k = 0; k < options.Keys; k++)
        {
            _cumulative[k] /= total;
        }
    }

    public long Generated => _index;

    /// <summary>The next event; <paramref name="nowMs"/> is its time before disorder when the step is 0.</summary>
    public GeneratedEvent Next(long nowMs)
    {
        long i = _index++;
        long time = _options.StepMs > 0 ? _options.StartMs + (long)(i * _options.StepMs) : nowMs;
        double roll = _random.NextDouble();
        if (roll < _options.Late)
        {
            time -= _options.LateMs + _random.NextInt64(_options.LateMs + 1);
        }
        else if (roll < _options.Late + _options.OutOfOrder)
        {
            time -= _random.NextInt64(_options.DisorderMs + 1);
        }

        int key = Array.BinarySearch(_cumulative, _random.NextDouble());
        key = key < 0 ? Math.Min(~key, _options.Keys - 1) : key;
        bool click = _random.NextDouble() < _options.ClickRate;
        return new GeneratedEvent(key + 1, Math.Max(0, time), click, 1 + _random.Next(_options.Items), 100 + _random.Next(20_000));
    }
}
