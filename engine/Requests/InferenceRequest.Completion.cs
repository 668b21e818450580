using System.Threading.Tasks.Sources;

namespace LowLatency.Engine.Requests;

/// <summary>
/// Completion and pooling. Completion is an <see cref="IValueTaskSource{TResult}"/> on the pooled
/// request itself: no Task or TaskCompletionSource per request. Continuations always run
/// asynchronously, so the device thread that completes a batch never runs ASP.NET code.
/// </summary>
public sealed partial class InferenceRequest : IValueTaskSource<bool>, IDisposable
{
    private ManualResetValueTaskSourceCore<bool> _completion;
    private int _rented;

    public InferenceStatus Status { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Completes when the engine has answered; then <see cref="Status"/> and the outputs are set.</summary>
    public ValueTask<bool> Completion => new(this, _completion.Version);

    internal void Complete()
    {
        CompletedUs = Scheduling.MonotonicClock.NowMicroseconds();
        _completion.SetResult(true);
    }

    internal void Fail(InferenceStatus status, string error)
    {
        Status = status;
        Error = error;
        CompletedUs = Scheduling.MonotonicClock.NowMicroseconds();
        _completion.SetResult(false);
    }

    /// <summary>Marks the request as handed out by the pool.</summary>
    internal void OnRent() => _rented = 1;

    bool IValueTaskSource<bool>.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// Returns the request to its model version's pool. Call once, after the completion was awaited
    /// (or when the request was never submitted); a second call does nothing.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, 0) == 0)
        {
            return;
        }

        ResetTensors();
        ResetScheduling();
        Status = InferenceStatus.Ok;
        Error = null;
        _completion.Reset();
        Model?.ReturnRequest(this);
    }
}
