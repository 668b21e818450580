using LowLatency.Engine.Config;

namespace LowLatency.Engine.Requests;

/// <summary>
/// Scheduling parameters (set by the host from the request), timestamps (µs on
/// <see cref="MonotonicClock"/>), and the scheduler's own intrusive state: queue links and the two
/// timers, so that queueing, timing out and cancelling allocate nothing.
/// </summary>
public sealed partial class InferenceRequest
{
    /// <summary>Triton's <c>priority</c> parameter: 1 is highest; 0 or out of range means the model's default.</summary>
    public int Priority { get; set; }

    /// <summary>Triton's <c>timeout</c> parameter in µs; 0 for none. It may only lower the level's default, where allowed.</summary>
    public long TimeoutMicroseconds { get; set; }

    public QosClass Qos { get; set; }

    /// <summary>
    /// The client's own deadline in µs after arrival (gRPC's <c>grpc-timeout</c>); 0 for none. Unlike
    /// <see cref="TimeoutMicroseconds"/> it holds whatever the queue policy allows: past it the client
    /// has stopped waiting, so a request still queued then is answered DeadlineExceeded, never run.
    /// </summary>
    public long DeadlineMicroseconds { get; set; }

    /// <summary>
    /// Time already spent on the request before it was submitted, in µs (its feature join): its
    /// timeout and deadlines count from that much before <see cref="ArrivalUs"/>.
    /// </summary>
    public long PrecedingMicroseconds { get; set; }

    /// <summary>When the engine received the request.</summary>
    public long ArrivalUs { get; internal set; }

    /// <summary>The request's span, when tracing: the batch span links to it.</summary>
    public System.Diagnostics.ActivityContext TraceContext { get; set; }

    /// <summary>The span of the batch that ran this request, when tracing.</summary>
    public System.Diagnostics.ActivityContext BatchTraceContext { get; internal set; }

    /// <summary>When the batch holding it became eligible to run: full, a preferred size formed, or its window expired (and a worker was free).</summary>
    public long EligibleUs { get; internal set; }

    public long ExecStartUs { get; internal set; }

    public long ExecEndUs { get; internal set; }

    public long CompletedUs { get; private set; }

    /// <summary>Waiting for a batch to form and a worker to be free.</summary>
    /// <summary>When the scheduling step handed the request's batch to a worker (between eligible and execution start).</summary>
    public long DispatchedUs { get; internal set; }

    public long QueueMicroseconds => Math.Max(0, EligibleUs - ArrivalUs);

    public long ComputeMicroseconds => Math.Max(0, ExecEndUs - ExecStartUs);

    /// <summary>What the engine itself added: (execution start − eligible) + (completion − execution end).</summary>
    public long OverheadMicroseconds => Math.Max(0, ExecStartUs - EligibleUs) + Math.Max(0, CompletedUs - ExecEndUs);

    /// <summary>On a batch's first request: its rows, for the batch metric recorded when the request is published.</summary>
    internal int MetricBatchRows;

    // Scheduler-thread state.
    internal int Level;
    internal long WindowDeadlineUs;
    internal long DeadlineUs;
    internal bool RejectOnTimeout;

    // An answer deadline (a QoS class's): the batch must end before it, not only start.
    internal bool AnswerDeadline;
    internal bool Delayed;
    internal InferenceRequest? QueueNext;
    internal InferenceRequest? QueuePrev;
    internal RequestList? QueueOwner;
    internal readonly RequestTimer WindowTimer;
    internal readonly RequestTimer TimeoutTimer;

    private void ResetScheduling()
    {
        Priority = 0;
        TimeoutMicroseconds = 0;
        DeadlineMicroseconds = PrecedingMicroseconds = 0;
        Qos = QosClass.None;
        ArrivalUs = EligibleUs = DispatchedUs = ExecStartUs = ExecEndUs = CompletedUs = 0;
        TraceContext = BatchTraceContext = default;
        AnswerDeadline = false;
        Level = 0;
        MetricBatchRows = 0;
        WindowDeadlineUs = DeadlineUs = 0;
        RejectOnTimeout = Delayed = false;
    }
}
