using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

internal struct ParkWaitStrategy : IWaitStrategy
{
    public readonly void WaitForTimer(ParkingSpot spot, long deadlineUs, IDeadlineAhead ahead) => SpinThenParkWaitStrategy.Park(spot, deadlineUs);

    public readonly void Wait(ParkingSpot spot, long deadlineUs) => SpinThenParkWaitStrategy.Park(spot, deadlineUs);
}
