using System.Runtime.CompilerServices;
using LowLatency.Client;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// The end of a forward's hold on a body borrowed from the request's buffers: its lease closed, so no
/// attempt starts reading it any more, and the wait for an abandoned attempt that still writes it (a
/// lost hedge, one cancelled while HttpClient was still sending). Kestrel reuses a request's buffers
/// once its handler returns, so the body is given back, and the handler returns, only after this.
/// </summary>
internal static class ForwardedBody
{
    /// <summary>
    /// Completes at once when no attempt reads the body (the common case: nothing allocated). Else,
    /// when <paramref name="answered"/> (the answer is whole), the response is ended first: its client
    /// does not wait for a lost attempt to notice its cancellation.
    /// </summary>
    public static ValueTask TakeBackAsync(HttpContext ctx, BodyLease lease, bool answered)
    {
        var drained = lease.CloseAsync();
        return drained.IsCompleted ? drained : EndThenWaitAsync(ctx, drained, answered);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async ValueTask EndThenWaitAsync(HttpContext ctx, ValueTask drained, bool answered)
    {
        try
        {
            if (answered && !ctx.RequestAborted.IsCancellationRequested)
            {
                await ctx.Response.CompleteAsync();
            }
        }
        catch (Exception e) when (ClientFault.Is(e))
        {
            // The client went away meanwhile: there is nothing left to end.
        }
        finally
        {
            await drained;
        }
    }
}
