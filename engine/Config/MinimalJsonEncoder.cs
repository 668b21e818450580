using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LowLatency.Engine.Config;

/// <summary>
/// The JSON encoder of everything the server writes: it escapes only what JSON requires (RFC 8259
/// section 7: the quotation mark, the backslash and U+0000 to U+001F) and writes every other
/// character as its UTF-8 bytes; text that is not valid UTF-8 or UTF-16 becomes U+FFFD. The default
/// encoder escapes <c>&lt; &gt; &amp; '</c> and every non-ASCII character as <c>\uXXXX</c>, six bytes
/// for one (twelve for four, outside the BMP), so a string a client sent came back up to six times
/// its size. The answers are <c>application/json</c>, never embedded in HTML, which is what that
/// escaping is for.
/// </summary>
public sealed unsafe class MinimalJsonEncoder : JavaScriptEncoder
{
    public static readonly MinimalJsonEncoder Instance = new();

    /// <summary>Writer options with this encoder (and the writer's defaults otherwise: compact, validated).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = Instance };

    // What JSON escapes, and the surrogates, whose pairing is checked.
    private static readonly SearchValues<char> CharsToCheck = SearchValues.Create(CharsToCheckList());

    // What JSON escapes, and every byte of a multi-byte sequence, whose validity is checked.
    private static readonly SearchValues<byte> BytesToCheck = SearchValues.Create(BytesToCheckList());

    private MinimalJsonEncoder()
    {
    }

    /// <summary><c>\u001F</c>: the longest escape written.</summary>
    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) => unicodeScalar is < 0x20 or '"' or '\\';

    public override int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var span = new ReadOnlySpan<char>(text, textLength);
        int i = 0;
        while (true)
        {
            int found = span[i..].IndexOfAny(CharsToCheck);
            if (found < 0)
            {
                return -1;
            }

            i += found;
            char c = span[i];
            if (!char.IsSurrogate(c))
            {
                return i;
            }

            if (!char.IsHighSurrogate(c) || i + 1 >= span.Length || !char.IsLowSurrogate(span[i + 1]))
            {
                // A lone surrogate: the writer's encoding replaces it.
                return i;
            }

            i += 2;
        }
    }

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        int i = 0;
        while (true)
        {
            int found = utf8Text[i..].IndexOfAny(BytesToCheck);
            if (found < 0)
            {
                return -1;
            }

            i += found;
            if (utf8Text[i] < 0x80)
            {
                return i;
            }

            if (Rune.DecodeFromUtf8(utf8Text[i..], out _, out int consumed) != OperationStatus.Done)
            {
                return i;
            }

            i += consumed;
        }
    }

    public override bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var destination = new Span<char>(buffer, bufferLength);
        numberOfCharactersWritten = 0;
        if (!WillEncode(unicodeScalar))
        {
            // Asked to write a character it does not escape: as it is.
            if (!Rune.IsValid(unicodeScalar))
            {
                unicodeScalar = Rune.ReplacementChar.Value;
            }

            return new Rune(unicodeScalar).TryEncodeToUtf16(destination, out numberOfCharactersWritten);
        }

        char shortForm = unicodeScalar switch
        {
            '"' => '"',
            '\\' => '\\',
            '\b' => 'b',
            '\f' => 'f',
            '\n' => 'n',
            '\r' => 'r',
            '\t' => 't',
            _ => '\0',
        };
        if (shortForm != '\0')
        {
            if (destination.Length < 2)
            {
                return false;
            }

            destination[0] = '\\';
            destination[1] = shortForm;
            numberOfCharactersWritten = 2;
            return true;
        }

        if (destination.Length < 6)
        {
            return false;
        }

        const string Hex = "0123456789ABCDEF";
        destination[0] = '\\';
        destination[1] = 'u';
        destination[2] = '0';
        destination[3] = '0';
        destination[4] = Hex[unicodeScalar >> 4];
        destination[5] = Hex[unicodeScalar & 0xF];
        numberOfCharactersWritten = 6;
        return true;
    }

    private static string CharsToCheckList()
    {
        var chars = new StringBuilder();
        for (char c = '\0'; c < ' '; c++)
        {
            chars.Append(c);
        }

        chars.Append('"').Append('\\');
        for (int c = 0xD800; c <= 0xDFFF; c++)
        {
            chars.Append((char)c);
        }

        return chars.ToString();
    }

    private static byte[] BytesToCheckList()
    {
        var bytes = new List<byte>();
        for (int b = 0; b < 0x20; b++)
        {
            bytes.Add((byte)b);
        }

        bytes.Add((byte)'"');
        bytes.Add((byte)'\\');
        for (int b = 0x80; b <= 0xFF; b++)
        {
            bytes.Add((byte)b);
        }

        return [.. bytes];
    }
}
