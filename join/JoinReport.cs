using System.Text;
using LowLatency.Features.Serving;

namespace LowLatency.Join;

/// <summary>The answer's <c>feature_statuses</c>: built only when some row was not present.</summary>
internal static class JoinReport
{
    /// <summary>Feast's status names, and UNAVAILABLE for a row the store did not give in time.</summary>
    public static string Name(FieldStatus status) => status == FieldStatus.Invalid ? "UNAVAILABLE" : status.Name();

    public static string Statuses(JoinPlan plan, JoinScratch scratch, int rows)
    {
        var text = new StringBuilder();
        int max = plan.Config.MaxBatchSize;
        for (int v = 0; v < plan.Views.Length; v++)
        {
            text.Append(v == 0 ? string.Empty : ";").Append(plan.Views[v].View.Name).Append(':');
            for (int b = 0; b < rows; b++)
            {
                text.Append(b == 0 ? string.Empty : ",").Append(Name(scratch.Statuses[scratch.ReadOf[(v * max) + b]]));
            }
        }

        return text.ToString();
    }
}
