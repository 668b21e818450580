using System.Globalization;
using System.Text.Json.Nodes;

namespace LowLatency.Engine.Config;

/// <summary>
/// Reads a <c>config.pbtxt</c> (Triton's <c>ModelConfig</c> in protobuf's text format) into the JSON
/// document a <c>config.json</c> holds, so that the same strict readers check it field by field.
/// Takes <c>key: value</c>, <c>key { ... }</c> (or <c>&lt; ... &gt;</c>, the colon optional), lists
/// <c>key: [a, b]</c>, repeated keys, map entries <c>key { key: K value: V }</c>, strings (adjacent ones
/// joined), integers (decimal, hex, octal), floats, booleans and enum names; fields separated by
/// white space, <c>,</c> or <c>;</c>. Which fields are arrays or maps: <see cref="TextFormatFields"/>.
/// Read at load only; errors name the file, and the line and column where the text is wrong.
/// </summary>
internal sealed class TextFormatReader
{
    private readonly TextFormatLexer _lexer;
    private TextFormatToken _token;

    private TextFormatReader(string text, string file)
    {
        _lexer = new TextFormatLexer(text, file);
        _token = _lexer.Next();
    }

    public static JsonObject Read(string text, string file)
    {
        var reader = new TextFormatReader(text, file);
        var root = new JsonObject();
        reader.Fields(root, string.Empty, string.Empty, close: null);
        return root;
    }

    private TextFormatToken Take()
    {
        var token = _token;
        _token = _lexer.Next();
        return token;
    }

    // The fields of one message, up to its closing symbol (the end of the file for the top level).
    private void Fields(JsonObject target, string path, string schema, char? close)
    {
        while (close is { } c ? !_token.Is(c) : _token.Kind != TextFormatTokenKind.End)
        {
            if (_token.Kind == TextFormatTokenKind.End)
            {
                throw _lexer.Error(_token, $"'{close}' expected: the end of the file came first");
            }

            Field(target, path, schema);
            if (_token.Is(',') || _token.Is(';'))
            {
                Take();
            }
        }

        Take();
    }

    private void Field(JsonObject target, string path, string schema)
    {
        var name = Take();
        if (name.Is('['))
        {
            throw _lexer.Error(name, "extension and Any fields ([...]) are not part of a model configuration");
        }

        if (name.Kind != TextFormatTokenKind.Identifier)
        {
            throw _lexer.Error(name, $"a field name expected, found {name.Describe()}");
        }

        string at = path.Length == 0 ? name.Text : $"{path}.{name.Text}";
        string fieldSchema = schema.Length == 0 ? name.Text : $"{schema}.{name.Text}";
        var shape = TextFormatFields.ShapeOf(fieldSchema);
        int first = shape == TextFormatFieldShape.Repeated && target[name.Text] is JsonArray existing ? existing.Count : 0;
        bool colon = _token.Is(':');
        if (colon)
        {
            Take();
        }

        var values = new List<(JsonNode Value, TextFormatToken At)>();
        bool list = _token.Is('[');
        if (list)
        {
            Take();
            while (!_token.Is(']'))
            {
                values.Add(Value($"{at}[{first + values.Count}]", fieldSchema, allowScalar: true));
                if (_token.Is(','))
                {
                    Take();
                }
                else if (!_token.Is(']'))
                {
                    throw _lexer.Error(_token, $"',' or ']' expected in the list of '{at}', found {_token.Describe()}");
                }
            }

            Take();
        }
        else
        {
            string element = shape == TextFormatFieldShape.Repeated ? $"{at}[{first}]" : at;
            values.Add(Value(element, fieldSchema, allowScalar: colon));
        }

        switch (shape)
        {
            case TextFormatFieldShape.Repeated:
                if (target[name.Text] is not JsonArray array)
                {
                    array = new JsonArray();
                    target[name.Text] = array;
                }

                foreach (var (value, _) in values)
                {
                    array.Add(value);
                }

                break;
            case TextFormatFieldShape.Map:
                if (target[name.Text] is not JsonObject map)
                {
                    map = new JsonObject();
                    target[name.Text] = map;
                }

                foreach (var (entry, entryAt) in values)
                {
                    MapEntry(map, at, entry, entryAt);
                }

                break;
            default:
                if (target.ContainsKey(name.Text))
                {
                    throw _lexer.Error(name, $"field '{at}' appears twice; only a repeated field may (this server reads no repeated field of that name)");
                }

                // A list for a single field is kept as written: the JSON readers then say what they expected.
                target[name.Text] = list ? new JsonArray(values.Select(v => (JsonNode?)v.Value).ToArray()) : values[0].Value;
                break;
        }
    }

    private (JsonNode Value, TextFormatToken At) Value(string at, string schema, bool allowScalar)
    {
        var start = _token;
        if (_token.Is('{') || _token.Is('<'))
        {
            var open = Take();
            var message = new JsonObject();
            Fields(message, at, schema, open.Is('{') ? '}' : '>');
            return (message, start);
        }

        if (!allowScalar)
        {
            throw _lexer.Error(_token, $"':' or '{{' expected after '{at}', found {_token.Describe()}");
        }

        return (Scalar(at), start);
    }

    private JsonNode Scalar(string at)
    {
        var token = Take();
        switch (token.Kind)
        {
            case TextFormatTokenKind.String:
                string text = token.Text;
                while (_token.Kind == TextFormatTokenKind.String)
                {
                    text += Take().Text;
                }

                return JsonValue.Create(text);
            case TextFormatTokenKind.Number:
                return Number(token, negative: false);
            case TextFormatTokenKind.Symbol when token.Is('-'):
                var magnitude = Take();
                if (magnitude.Kind == TextFormatTokenKind.Number)
                {
                    return Number(magnitude, negative: true);
                }

                throw _lexer.Error(magnitude, magnitude.Kind == TextFormatTokenKind.Identifier && IsNonFinite(magnitude.Text)
                    ? $"'{at}': {ClientText.Quoted("-" + magnitude.Text)} is not a finite number"
                    : $"a number expected after '-', found {magnitude.Describe()}");
            case TextFormatTokenKind.Identifier:
                return token.Text switch
                {
                    "true" or "True" or "t" => JsonValue.Create(true),
                    "false" or "False" or "f" => JsonValue.Create(false),
                    var word when IsNonFinite(word) => throw _lexer.Error(token, $"'{at}': {ClientText.Quoted(word)} is not a finite number"),

                    // An enum value by name (TYPE_FP32, KIND_CPU, REJECT): config.json gives it as a string.
                    var word => JsonValue.Create(word),
                };
            default:
                throw _lexer.Error(token, $"a value for '{at}' expected, found {token.Describe()}");
        }
    }

    private static bool IsNonFinite(string word) =>
        word.Equals("inf", StringComparison.OrdinalIgnoreCase) || word.Equals("infinity", StringComparison.OrdinalIgnoreCase) || word.Equals("nan", StringComparison.OrdinalIgnoreCase);

    private JsonNode Number(TextFormatToken token, bool negative)
    {
        string s = token.Text;
        ulong magnitude;
        bool integer;
        if (s.Length > 2 && s[0] == '0' && s[1] is 'x' or 'X')
        {
            integer = ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude);
        }
        else if (s.Length > 1 && s[0] == '0' && s.AsSpan(1).IndexOfAnyExceptInRange('0', '7') < 0)
        {
            integer = TryOctal(s.AsSpan(1), out magnitude);
        }
        else if (s.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0 && (s.Length == 1 || s[0] != '0'))
        {
            integer = ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude);
        }
        else
        {
            return Float(token, negative);
        }

        if (!integer || (negative && magnitude > (ulong)long.MaxValue + 1))
        {
            throw _lexer.Error(token, $"{ClientText.Quoted((negative ? "-" : string.Empty) + s)} is out of the range of a 64-bit integer");
        }

        return negative ? JsonValue.Create(magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude)
            : magnitude <= long.MaxValue ? JsonValue.Create((long)magnitude) : JsonValue.Create(magnitude);
    }

    private static bool TryOctal(ReadOnlySpan<char> digits, out ulong value)
    {
        value = 0;
        foreach (char d in digits)
        {
            if (value > ulong.MaxValue / 8)
            {
                return false;
            }

            value = (value * 8) + (ulong)(d - '0');
        }

        return true;
    }

    // Written with a fraction or an exponent always, so that a float never passes as an integer:
    // max_batch_size: 8.0 is refused as config.json's 8.0 is.
    private JsonNode Float(TextFormatToken token, bool negative)
    {
        string s = token.Text;
        var digits = s.EndsWith('f') || s.EndsWith('F') ? s.AsSpan(0, s.Length - 1) : s.AsSpan();
        if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value) || digits.IndexOfAny('.', 'e', 'E') < 0 || !(char.IsAsciiDigit(digits[^1]) || digits[^1] == '.'))
        {
            throw _lexer.Error(token, $"{ClientText.Quoted(s)} is not a number");
        }

        string json = (negative ? -value : value).ToString("R", CultureInfo.InvariantCulture);
        if (json.AsSpan().IndexOfAny('.', 'E', 'e') < 0)
        {
            json += ".0";
        }

        return JsonNode.Parse(json)!;
    }

    private void MapEntry(JsonObject map, string at, JsonNode entry, TextFormatToken entryAt)
    {
        if (entry is not JsonObject fields)
        {
            throw _lexer.Error(entryAt, $"'{at}' is a map: each entry is {{ key: ... value: ... }}");
        }

        foreach (var (field, _) in fields)
        {
            if (field is not ("key" or "value"))
            {
                throw _lexer.Error(entryAt, $"'{at}': a map entry holds only key and value, not {ClientText.Quoted(field)}");
            }
        }

        if (fields["key"] is not JsonValue key || fields["value"] is null)
        {
            throw _lexer.Error(entryAt, $"'{at}': a map entry needs a key and a value");
        }

        string name = key.TryGetValue(out string? text) ? text : key.ToJsonString();
        if (map.ContainsKey(name))
        {
            throw _lexer.Error(entryAt, $"'{at}': the key {ClientText.Quoted(name)} appears twice");
        }

        var value = fields["value"]!;
        fields.Remove("value");
        map[name] = value;
    }
}
