namespace LowLatency.Engine.Config;

/// <summary>An instance group's device. KIND_GPU is refused when the configuration is read: the CPU is the only device served.</summary>
public enum InstanceKind
{
    /// <summary>The CPU, as Triton's KIND_AUTO on a host without GPUs.</summary>
    Auto,
    Cpu,
}
