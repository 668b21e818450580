using System.Buffers;
using System.Globalization;
using System.Text;

namespace LowLatency.Engine.Config;

/// <summary>
/// Splits a <c>config.pbtxt</c> (protobuf's text format) into tokens, each with its line and column:
/// <c>#</c> comments and white space skipped, strings unescaped (C escapes, octal, <c>\x</c>,
/// <c>\u</c>, <c>\U</c>) and checked to be UTF-8. Every error names the file, line and column.
/// </summary>
internal sealed class TextFormatLexer(string text, string file)
{
    private const string Symbols = "{}[]<>:,;-";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private int _at;
    private int _line = 1;
    private int _column = 1;

    public ModelConfigException Error(int line, int column, string problem) =>
        new(file, $"line {line.ToString(CultureInfo.InvariantCulture)}, column {column.ToString(CultureInfo.InvariantCulture)}: {problem}");

    public ModelConfigException Error(TextFormatToken at, string problem) => Error(at.Line, at.Column, problem);

    public TextFormatToken Next()
    {
        SkipSpaceAndComments();
        int line = _line, column = _column;
        if (_at >= text.Length)
        {
            return new TextFormatToken(TextFormatTokenKind.End, string.Empty, line, column);
        }

        char c = text[_at];
        int start = _at;
        if (char.IsAsciiLetter(c) || c == '_')
        {
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_'))
            {
                Advance();
            }

            return new TextFormatToken(TextFormatTokenKind.Identifier, text[start.._at], line, column);
        }

        if (char.IsAsciiDigit(c) || (c == '.' && _at + 1 < text.Length && char.IsAsciiDigit(text[_at + 1])))
        {
            return Number(line, column);
        }

        if (c is '"' or '\'')
        {
            return String(line, column);
        }

        if (Symbols.Contains(c, StringComparison.Ordinal))
        {
            Advance();
            return new TextFormatToken(TextFormatTokenKind.Symbol, c.ToString(), line, column);
        }

        throw Error(line, column, $"unexpected character {ClientText.Quoted(c.ToString())}");
    }

    private void Advance()
    {
        if (text[_at] == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }

        _at++;
    }

    private void SkipSpaceAndComments()
    {
        while (_at < text.Length)
        {
            if (text[_at] == '#')
            {
                while (_at < text.Length && text[_at] != '\n')
                {
                    Advance();
                }
            }
            else if (char.IsWhiteSpace(text[_at]))
            {
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    // The literal as written (0x1F, 017, 1.5e-3, 2f); the reader gives it its value.
    private TextFormatToken Number(int line, int column)
    {
        int start = _at;
        bool hex = _at + 1 < text.Length && text[_at] == '0' && text[_at + 1] is 'x' or 'X';
        while (_at < text.Length)
        {
            char c = text[_at];
            bool exponentSign = !hex && c is '+' or '-' && text[_at - 1] is 'e' or 'E';
            if (!(char.IsAsciiLetterOrDigit(c) || c == '.' || exponentSign))
            {
                break;
            }

            Advance();
        }

        return new TextFormatToken(TextFormatTokenKind.Number, text[start.._at], line, column);
    }

    private TextFormatToken String(int line, int column)
    {
        char quote = text[_at];
        Advance();
        var bytes = new ArrayBufferWriter<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        while (true)
        {
            if (_at >= text.Length || text[_at] == '\n')
            {
                throw Error(line, column, "unterminated string (a string ends on the line it starts)");
            }

            char c = text[_at];
            if (c == quote)
            {
                Advance();
                break;
            }

            if (c != '\\')
            {
                if (Rune.DecodeFromUtf16(text.AsSpan(_at), out var rune, out int used) != OperationStatus.Done)
                {
                    throw Error(_line, _column, "a lone surrogate character in a string");
                }

                bytes.Write(utf8[..rune.EncodeToUtf8(utf8)]);
                for (int i = 0; i < used; i++)
                {
                    Advance();
                }

                continue;
            }

            Escape(bytes, utf8);
        }

        try
        {
            return new TextFormatToken(TextFormatTokenKind.String, StrictUtf8.GetString(bytes.WrittenSpan), line, column);
        }
        catch (DecoderFallbackException)
        {
            throw Error(line, column, "the string's bytes are not valid UTF-8");
        }
    }

    private void Escape(ArrayBufferWriter<byte> bytes, Span<byte> utf8)
    {
        int line = _line, column = _column;
        Advance();
        if (_at >= text.Length)
        {
            throw Error(line, column, "unterminated string");
        }

        char e = text[_at];
        Advance();
        byte simple = e switch
        {
            'n' => (byte)'\n',
            't' => (byte)'\t',
            'r' => (byte)'\r',
            'a' => 7,
            'b' => 8,
            'f' => 12,
            'v' => 11,
            '\\' or '\'' or '"' or '?' => (byte)e,
            _ => 0,
        };
        if (simple != 0)
        {
            Append(bytes, simple);
            return;
        }

        if (e is >= '0' and <= '7')
        {
            int value = e - '0';
            for (int i = 0; i < 2 && _at < text.Length && text[_at] is >= '0' and <= '7'; i++)
            {
                value = (value * 8) + (text[_at] - '0');
                Advance();
            }

            if (value > 255)
            {
                throw Error(line, column, "an octal escape above \\377");
            }

            Append(bytes, (byte)value);
            return;
        }

        int digits = e switch
        {
            'x' or 'X' => 2,
            'u' => 4,
            'U' => 8,
            _ => throw Error(line, column, $"unknown escape {ClientText.Quoted("\\" + e)}"),
        };
        long code = 0;
        int read = 0;
        while (read < digits && _at < text.Length && char.IsAsciiHexDigit(text[_at]))
        {
            code = (code * 16) + int.Parse(text.AsSpan(_at, 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            read++;
            Advance();
        }

        if (digits == 2)
        {
            if (read == 0)
            {
                throw Error(line, column, "\\x needs one or two hex digits");
            }

            Append(bytes, (byte)code);
            return;
        }

        if (read != digits || code > 0x10FFFF || !Rune.IsValid((int)code))
        {
            throw Error(line, column, $"\\{e} needs {digits} hex digits naming a Unicode scalar value");
        }

        bytes.Write(utf8[..new Rune((int)code).EncodeToUtf8(utf8)]);
    }

    private static void Append(ArrayBufferWriter<byte> bytes, byte value)
    {
        bytes.GetSpan(1)[0] = value;
        bytes.Advance(1);
    }
}
