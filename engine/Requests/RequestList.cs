
namespace LowLatency.Engine.Requests;

/// <summary>
/// An intrusive FIFO of requests (links live in the request): O(1) append, removal from anywhere
/// (a timeout), and no allocation. Scheduler-thread only.
/// </summary>
internal sealed class RequestList
{
    public InferenceRequest? Head { get; private set; }

    public InferenceRequest? Tail { get; private set; }

    public int Count { get; private set; }

    /// <summary>Rows (batch dimension) of every request in the list.</summary>
    public long Rows { get; private set; }

    public void Append(InferenceRequest r)
    {
        r.QueueOwner = this;
        r.QueueNext = null;
        r.QueuePrev = Tail;
        if (Tail is null)
        {
            Head = r;
        }
        else
        {
            Tail.QueueNext = r;
        }

        Tail = r;
        Count++;
        Rows += r.BatchSize;
    }

    public void Remove(InferenceRequest r)
    {
        if (r.QueuePrev is null)
        {
            Head = r.QueueNext;
        }
        else
        {
            r.QueuePrev.QueueNext = r.QueueNext;
        }

        if (r.QueueNext is null)
        {
            Tail = r.QueuePrev;
        }
        else
        {
            r.QueueNext.QueuePrev = r.QueuePrev;
        }

        r.QueueNext = r.QueuePrev = null;
        r.QueueOwner = null;
        Count--;
        Rows -= r.BatchSize;
    }
}
