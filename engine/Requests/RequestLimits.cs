
namespace LowLatency.Engine.Requests;

/// <summary>
/// Server-wide request bounds: elements per tensor, rows per request (0: only the model's
/// <c>max_batch_size</c>). A request over one gets 400 naming the setting.
/// </summary>
internal sealed record RequestLimits(long MaxTensorElements, int MaxBatchRowsPerRequest)
{
    public static readonly RequestLimits None = new(long.MaxValue, 0);
}
