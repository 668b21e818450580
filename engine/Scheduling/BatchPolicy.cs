namespace LowLatency.Engine.Scheduling;

/// <summary>
/// Triton's dynamic batcher decision as a pure function of the queue and the time: walk the candidates
/// in priority order, grow the batch up to <c>max_batch_size</c>, remember the largest preferred size
/// reached; send at once when full or a preferred size is formed, send everything pending once the
/// earliest window has expired, otherwise wait until it does. Fed one candidate at a time so the
/// scheduler can walk its intrusive queues without copying them.
/// </summary>
internal struct BatchPolicy
{
    private readonly int _maxBatchSize;
    private readonly int _maxPreferred;
    private readonly int[] _preferred;
    private int _rows;
    private int _count;
    private int _preferredCount;
    private int _preferredRows;
    private long _preferredEligible;
    private long _earliestWindow;
    private long _earliestZeroWindow;
    private long _lastArrival;
    private long _blockedArrival;
    private bool _blocked;

    /// <param name="maxBatchSize">Rows in a batch at most; 0 for a model without batching (one request a batch).</param>
    /// <param name="preferred">Preferred batch sizes, ascending.</param>
    public BatchPolicy(int maxBatchSize, int[] preferred)
    {
        _maxBatchSize = Math.Max(1, maxBatchSize);
        _preferred = preferred;
        _maxPreferred = preferred.Length > 0 ? preferred[^1] : _maxBatchSize;
        _earliestWindow = long.MaxValue;
        _earliestZeroWindow = long.MaxValue;
        _blockedArrival = long.MaxValue;
    }

    public readonly int Count => _count;

    public readonly int Rows => _rows;

    /// <summary>
    /// Offers the next request in priority order; false when it does not join (it would overflow the
    /// batch, or cannot be batched with the first), after which the batch is full.
    /// </summary>
    public bool TryAdd(int rows, long windowDeadlineUs, long arrivalUs, bool compatible = true)
    {
        if (_blocked || _rows >= _maxBatchSize)
        {
            return false;
        }

        if (_rows + rows > _maxBatchSize || (_count > 0 && !compatible))
        {
            _blocked = true;
            _blockedArrival = arrivalUs;
            return false;
        }

        _rows += rows;
        _count++;
        _lastArrival = Math.Max(_lastArrival, arrivalUs);
        // A zero window (max_queue_delay 0, or QoS realtime) means "do not wait", which Triton
        // treats apart from an expired window: a preferred size reached still limits the batch.
        if (windowDeadlineUs <= arrivalUs)
        {
            _earliestZeroWindow = Math.Min(_earliestZeroWindow, arrivalUs);
        }
        else
        {
            _earliestWindow = Math.Min(_earliestWindow, windowDeadlineUs);
        }
        if (Array.BinarySearch(_preferred, _rows) >= 0)
        {
            _preferredCount = _count;
            _preferredRows = _rows;
            _preferredEligible = _lastArrival;
        }

        return true;
    }

    /// <summary>True when adding more cannot change the decision (the walk may stop).</summary>
    public readonly bool Saturated => _blocked || _rows >= _maxBatchSize;

    /// <summary>The decision at <paramref name="nowUs"/>; <paramref name="draining"/> sends whatever is pending.</summary>
    public readonly BatchDecision Decide(long nowUs, bool draining = false)
    {
        if (_count == 0)
        {
            return new BatchDecision(SendReason.None, 0, 0, long.MaxValue, 0);
        }

        if (_rows >= _maxBatchSize || _blocked)
        {
            return new BatchDecision(SendReason.Full, _count, _rows, 0, _rows >= _maxBatchSize ? _lastArrival : Math.Max(_lastArrival, _blockedArrival));
        }

        bool windowExpired = _earliestWindow <= nowUs;
        if (_preferredCount > 0 && !windowExpired)
        {
            return new BatchDecision(SendReason.Preferred, _preferredCount, _preferredRows, 0, _preferredEligible);
        }

        if (_rows >= _maxPreferred)
        {
            return new BatchDecision(SendReason.Full, _count, _rows, 0, _lastArrival);
        }

        if (windowExpired || _earliestZeroWindow != long.MaxValue)
        {
            return new BatchDecision(SendReason.Window, _count, _rows, 0, Math.Min(_earliestWindow, _earliestZeroWindow));
        }

        if (draining)
        {
            return new BatchDecision(SendReason.Drain, _count, _rows, 0, nowUs);
        }

        return new BatchDecision(SendReason.None, 0, 0, _earliestWindow, 0);
    }
}
