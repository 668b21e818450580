
namespace LowLatency.Engine.Config;

/// <summary>
/// The three QoS classes of a model. Priority is fixed by class: realtime above every priority
/// level, balanced at the model's default level, throughput below every level.
/// </summary>
public sealed record QosSettings(QosPolicy Realtime, QosPolicy Balanced, QosPolicy Throughput)
{
    public static readonly QosSettings Default = new(new QosPolicy(0, 5_000), new QosPolicy(8_000, 20_000), new QosPolicy(32_000, 100_000));

    public QosPolicy For(QosClass qos) => qos switch
    {
        QosClass.Realtime => Realtime,
        QosClass.Throughput => Throughput,
        _ => Balanced,
    };
}
