namespace LowLatency.Host.Security;

internal sealed class ApiKeyOptions
{
    /// <summary>
    /// The shortest key accepted. An API key is a password that never expires and is sent on every
    /// request: 16 characters is a floor against guessing, not a target (32 random bytes in base64
    /// is a good key).
    /// </summary>
    public const int MinimumLength = 16;

    public string Key { get; set; } = string.Empty;

    public string Subject { get; set; } = string.Empty;

    public string[] Scopes { get; set; } = [];

    /// <summary>What makes <see cref="Key"/> unusable, without repeating it; null when nothing does.</summary>
    public string? KeyProblem()
    {
        if (string.IsNullOrEmpty(Key))
        {
            // Most often a variable the deployment did not set: an empty key would match an empty header.
            return $"is empty: every key needs at least {MinimumLength} characters";
        }

        if (Key.Length < MinimumLength)
        {
            return $"is {Key.Length} characters long: a key needs at least {MinimumLength}";
        }

        // HTTP strips white space around a header's value and has no way to carry control
        // characters: no request could send such a key, and a blank one would match a blank header.
        if (char.IsWhiteSpace(Key[0]) || char.IsWhiteSpace(Key[^1]))
        {
            return "begins or ends with white space, which HTTP strips from a header's value";
        }

        if (Key.Any(c => char.IsControl(c) && c != '\t'))
        {
            return "holds a control character, which a header cannot carry";
        }

        return null;
    }
}
