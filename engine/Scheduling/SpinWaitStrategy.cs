using LowLatency.Engine.Time;
using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

internal struct SpinWaitStrategy : IWaitStrategy
{
    public readonly void WaitForTimer(ParkingSpot spot, long deadlineUs, IDeadlineAhead ahead) => Wait(spot, deadlineUs);

    public readonly void Wait(ParkingSpot spot, long deadlineUs)
    {
        while (!spot.TryConsume() && MonotonicClock.NowMicroseconds() < deadlineUs)
        {
            Thread.SpinWait(8);
        }
    }
}
