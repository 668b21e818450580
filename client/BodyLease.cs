namespace LowLatency.Client;

/// <summary>
/// Who still reads a body lent to <see cref="InferenceClient.ForwardAsync"/> or
/// <see cref="InferenceClient.ForwardGrpcAsync"/>, so that its owner takes the body back only once
/// no one does. A call's end says nothing about its body: HttpClient may return from a call, answered
/// or cancelled, while the request's content is still being written (it observes only that task's
/// failure), and a gateway does not wait for a hedge it lost. Each write of the body enters the lease
/// and leaves it when done; <see cref="CloseAsync"/> lets no write start any more and completes once
/// the writes in flight have left. A write that would start after it throws <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class BodyLease
{
    // The writes in flight in the low bits, closed in the sign bit: entering and closing are decided
    // on one word, so a write either entered before the close (and is waited for) or never starts.
    private const int Closed = int.MinValue;

    private int _state;
    private TaskCompletionSource? _drained;

    /// <summary>Whether no write may start any more.</summary>
    public bool IsClosed => Volatile.Read(ref _state) < 0;

    /// <summary>A write of the body begins; false once the lease is closed (the body may be gone): then it must not read.</summary>
    public bool TryEnter()
    {
        int state = Volatile.Read(ref _state);
        while (state >= 0)
        {
            int seen = Interlocked.CompareExchange(ref _state, state + 1, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }

        return false;
    }

    /// <summary>A write of the body begins, or throws <see cref="OperationCanceledException"/> once the lease is closed: the call that was to send it was abandoned.</summary>
    internal void Enter()
    {
        if (!TryEnter())
        {
            throw new OperationCanceledException("the body was given back to its owner: the call that was to send it was abandoned");
        }
    }

    /// <summary>A write that entered has stopped reading the body.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _state) == Closed)
        {
            // The last write of a closed lease: its owner may be waiting. Read after the decrement, as
            // CloseAsync publishes its waiter before it reads the count: one of the two sees the other.
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    /// <summary>
    /// No write starts from now on; completes once those in flight have stopped, at once (synchronously,
    /// allocating nothing) when none is. The owner may reuse or return the body then.
    /// </summary>
    public ValueTask CloseAsync()
    {
        if ((Interlocked.Or(ref _state, Closed) & ~Closed) == 0)
        {
            return ValueTask.CompletedTask;
        }

        // Continuations run off the writer's thread: the owner's release must not run inside HttpClient's send.
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        drained = Interlocked.CompareExchange(ref _drained, drained, null) ?? drained;
        if (Volatile.Read(ref _state) == Closed)
        {
            drained.TrySetResult();
        }

        return new ValueTask(drained.Task);
    }
}
