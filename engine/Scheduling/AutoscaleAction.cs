namespace LowLatency.Engine.Scheduling;

/// <summary>What the autoscaler does with a version's instances after a window.</summary>
public enum AutoscaleAction
{
    Hold,
    Add,
    Remove,
}
