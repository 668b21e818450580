using System.Text;
using LowLatency.Engine.Config;

namespace LowLatency.Tests.Protocol;

/// <summary>How an error quotes a client's text: whole when short, its first 128 characters marked as cut otherwise, never half a character.</summary>
public sealed class ClientTextTests
{
    [Fact]
    public void Short_text_is_quoted_whole()
    {
        Assert.Equal("'dense'", ClientText.Quoted("dense"));
        Assert.Equal("''", ClientText.Quoted((string?)null));
        Assert.Equal("'é'", ClientText.Quoted("é"u8));
        string max = new('x', ClientText.MaxQuotedChars);
        Assert.Equal($"'{max}'", ClientText.Quoted(max));
        Assert.Equal($"'{new string('é', 128)}'", ClientText.Quoted(Encoding.UTF8.GetBytes(new string('é', 128))));
    }

    [Fact]
    public void Long_text_is_cut_at_128_characters_and_says_how_long_it_was()
    {
        Assert.Equal($"'{new string('<', 128)}…' (cut from 129 characters)", ClientText.Quoted(new string('<', 129)));
        Assert.Equal($"'{new string('<', 128)}…' (cut from 1000 bytes)", ClientText.Quoted(Encoding.UTF8.GetBytes(new string('<', 1000))));
        // The first bytes of a longer text, and its whole length.
        Assert.Equal($"'{new string('<', 128)}…' (cut from 5000000 bytes)", ClientText.Quoted(Encoding.UTF8.GetBytes(new string('<', 4096)), 5_000_000));
        Assert.Equal("'ab…' (cut from 9 bytes)".Length, ClientText.Quoted("ab"u8, 9).Length);
    }

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair()
    {
        string text = new string('x', 127) + "😀" + "tail";
        Assert.Equal($"'{new string('x', 127)}…' (cut from 133 characters)", ClientText.Quoted(text));
        Assert.Equal(new string('x', 127) + "… (cut from 133 characters)", ClientText.Truncate(text, 128));
        Assert.Same(text, ClientText.Truncate(text, 200));
    }
}
