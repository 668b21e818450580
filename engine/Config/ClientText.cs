using System.Globalization;
using System.Text;

namespace LowLatency.Engine.Config;

/// <summary>
/// Text a client sent (a name, a value, a header) as an error message quotes it: in single quotes,
/// and past <see cref="MaxQuotedChars"/> characters cut, marked with its full length. An error then
/// costs the server a few hundred bytes whatever the client sent, so a hostile request cannot make
/// it build (and send) an answer the size of its body.
/// </summary>
public static class ClientText
{
    /// <summary>The most characters of a client's text an error quotes; every valid model name (128) fits.</summary>
    public const int MaxQuotedChars = 128;

    /// <summary>The most UTF-8 bytes decoded to quote a byte string (each character takes at most 4).</summary>
    private const int MaxQuotedBytes = MaxQuotedChars * 4;

    /// <summary><c>'text'</c>, or <c>'first 128 characters…' (cut from N characters)</c>.</summary>
    public static string Quoted(string? text)
    {
        text ??= string.Empty;
        return text.Length <= MaxQuotedChars ? $"'{text}'" : Cut(text.AsSpan(), text.Length, "characters");
    }

    /// <summary>As <see cref="Quoted(string)"/> for UTF-8 bytes (a name as it lies in the body); the length is counted in bytes.</summary>
    public static string Quoted(ReadOnlySpan<byte> utf8) => Quoted(utf8, utf8.Length);

    /// <summary>As <see cref="Quoted(ReadOnlySpan{byte})"/> for the first bytes of a text <paramref name="length"/> bytes long.</summary>
    public static string Quoted(ReadOnlySpan<byte> utf8, long length)
    {
        bool whole = utf8.Length == length;
        if (whole && length <= MaxQuotedChars)
        {
            return $"'{Encoding.UTF8.GetString(utf8)}'";
        }

        string prefix = Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, MaxQuotedBytes)]);
        return whole && length <= MaxQuotedBytes && prefix.Length <= MaxQuotedChars
            ? $"'{prefix}'"
            : Cut(prefix.AsSpan(), length, "bytes");
    }

    /// <summary>
    /// <paramref name="text"/> cut to at most <paramref name="maxChars"/> characters (not between the
    /// two halves of a surrogate pair), marked as cut with its length; whole when it fits.
    /// </summary>
    public static string Truncate(string text, int maxChars) =>
        text.Length <= maxChars ? text : $"{text.AsSpan(0, PrefixLength(text.AsSpan(), maxChars))}… (cut from {text.Length.ToString(CultureInfo.InvariantCulture)} characters)";

    private static string Cut(ReadOnlySpan<char> text, long length, string unit) =>
        $"'{text[..PrefixLength(text, MaxQuotedChars)]}…' (cut from {length.ToString(CultureInfo.InvariantCulture)} {unit})";

    private static int PrefixLength(ReadOnlySpan<char> text, int maxChars)
    {
        int n = Math.Min(text.Length, maxChars);
        return n > 0 && n < text.Length && char.IsHighSurrogate(text[n - 1]) ? n - 1 : n;
    }
}
