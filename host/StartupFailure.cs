namespace LowLatency.Host;

/// <summary>Why the server could not start serving, in one line: each message of the exception's chain that says more than the one before it.</summary>
internal static class StartupFailure
{
    public static string Describe(Exception e)
    {
        var line = new System.Text.StringBuilder(e.Message.Split('\n')[0].Trim());
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            string message = inner.Message.Split('\n')[0].Trim();
            if (message.Length > 0 && !line.ToString().Contains(message, StringComparison.OrdinalIgnoreCase))
            {
                line.Append(": ").Append(message);
            }
        }

        return line.ToString();
    }
}
