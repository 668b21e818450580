namespace LowLatency.Engine.Scheduling;

/// <summary>
/// Send <see cref="Count"/> requests (<see cref="Rows"/> rows) now, eligible since
/// <see cref="EligibleUs"/>; or, when <see cref="Reason"/> is None, wait until <see cref="WaitUntilUs"/>.
/// </summary>
internal readonly record struct BatchDecision(SendReason Reason, int Count, int Rows, long WaitUntilUs, long EligibleUs)
{
    public bool Send => Reason != SendReason.None;
}
