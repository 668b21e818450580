using LowLatency.Engine.Requests;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// The requests whose callers cancelled them, for the scheduling step to take out of its queues: a
/// lock-free stack linked through <see cref="InferenceRequest.CancelNext"/>, so that a push allocates
/// nothing. Any thread pushes with a compare-and-swap; the holder of the step takes the whole list
/// with one exchange and never pops a single node, which rules out the ABA problem of a popping
/// stack. A request is on it at most once: its cancel mark lets only the first Cancel of a use push
/// it, and is cleared only after the step has taken it off.
/// </summary>
internal sealed class CancelList
{
    private InferenceRequest? _head;

    public bool IsEmpty => Volatile.Read(ref _head) is null;

    /// <summary>Any thread. The CAS publishes the link written before it.</summary>
    public void Push(InferenceRequest request)
    {
        var head = Volatile.Read(ref _head);
        while (true)
        {
            request.CancelNext = head;
            var seen = Interlocked.CompareExchange(ref _head, request, head);
            if (ReferenceEquals(seen, head))
            {
                return;
            }

            head = seen;
        }
    }

    /// <summary>The step's holder: the whole list (linked through CancelNext, newest first), or null. A plain read while it is empty, as it nearly always is.</summary>
    public InferenceRequest? TakeAll() => Volatile.Read(ref _head) is null ? null : Interlocked.Exchange(ref _head, null);
}
