namespace LowLatency.Host.Grpc;

/// <summary>
/// The <c>grpc-timeout</c> header (gRPC over HTTP/2): at most 8 digits and a unit, H M S m u n.
/// Read in microseconds, rounded up (a deadline is never made earlier than the client's).
/// </summary>
internal static class GrpcTimeout
{
    public const string Header = "grpc-timeout";

    /// <summary>The timeout in µs; false when the header is absent; a malformed one is also false (ignored, as grpc-dotnet does).</summary>
    public static bool TryParse(string? value, out long microseconds)
    {
        microseconds = 0;
        if (value is not { Length: >= 2 and <= 9 })
        {
            return false;
        }

        long amount = 0;
        for (int i = 0; i < value.Length - 1; i++)
        {
            char c = value[i];
            if (c is < '0' or > '9')
            {
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        long? us = value[^1] switch
        {
            'H' => amount * 3_600_000_000,
            'M' => amount * 60_000_000,
            'S' => amount * 1_000_000,
            'm' => amount * 1_000,
            'u' => amount,
            'n' => (amount + 999) / 1_000,
            _ => null,
        };
        if (us is not { } t)
        {
            return false;
        }

        microseconds = Math.Max(1, t);
        return true;
    }
}
