using System.Buffers;
using System.Text;
using System.Text.Json;
using LowLatency.Engine.Config;

namespace LowLatency.Tests.Protocol;

/// <summary>The encoder every JSON answer is written with: only what JSON requires is escaped, the rest is written as it is, and what is not valid text becomes U+FFFD.</summary>
public sealed class MinimalJsonEncoderTests
{
    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("<script>&'+`", "\"<script>&'+`\"")]
    [InlineData("é中😀\u2028", "\"é中😀\u2028\"")]
    [InlineData("\"\\/", "\"\\\"\\\\/\"")]
    [InlineData("\b\f\n\r\t\u0000\u001f\u007f", "\"\\b\\f\\n\\r\\t\\u0000\\u001F\u007f\"")]
    public void Strings_are_written_escaping_only_what_JSON_requires(string text, string json)
    {
        Assert.Equal(json, Write(w => w.WriteStringValue(text)));
        // The same text handed over as UTF-8, and as a property name.
        Assert.Equal(json, Write(w => w.WriteStringValue(Encoding.UTF8.GetBytes(text))));
        Assert.Equal("{" + json + ":1}", Write(w => { w.WriteStartObject(); w.WriteNumber(text, 1); w.WriteEndObject(); }));
    }

    [Fact]
    public void A_lone_surrogate_becomes_the_replacement_character()
    {
        Assert.Equal("\"a\ufffdb\"", Write(w => w.WriteStringValue("a\ud800b")));
        Assert.Equal("\"\ufffd\"", Write(w => w.WriteStringValue("\udc00")));
        Assert.Equal("\"x\ufffd\"", Write(w => w.WriteStringValue("x\ud83d")));
        Assert.Equal("\"😀\ufffd\"", Write(w => w.WriteStringValue("\ud83d\ude00\ud83d")));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', 0xFF, (byte)'b' }, "\"a\ufffdb\"")]
    [InlineData(new byte[] { 0xE4, 0xB8 }, "\"\ufffd\"")]
    [InlineData(new byte[] { 0xC0, 0xAF, (byte)'<' }, "\"\ufffd\ufffd<\"")]
    public void Invalid_UTF_8_becomes_the_replacement_character(byte[] utf8, string json) =>
        Assert.Equal(json, Write(w => w.WriteStringValue(utf8)));

    [Fact]
    public void Long_text_of_every_kind_comes_out_at_its_own_size_but_for_what_JSON_escapes()
    {
        string text = string.Concat(Enumerable.Repeat("<a é 中 😀 >", 10_000));
        Assert.Equal(Encoding.UTF8.GetByteCount(text) + 2, Encoding.UTF8.GetByteCount(Write(w => w.WriteStringValue(text))));
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, MinimalJsonEncoder.WriterOptions))
        {
            write(w);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
