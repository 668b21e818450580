namespace LowLatency.Engine.Config;

/// <summary>
/// One token of a <c>config.pbtxt</c> where it starts (1-based line and column): an identifier, a
/// number's literal, a string already unescaped, or one of <c>{ } [ ] &lt; &gt; : , ; -</c>.
/// </summary>
internal readonly record struct TextFormatToken(TextFormatTokenKind Kind, string Text, int Line, int Column)
{
    public bool Is(char symbol) => Kind == TextFormatTokenKind.Symbol && Text.Length == 1 && Text[0] == symbol;

    /// <summary>How an error message shows it.</summary>
    public string Describe() => Kind switch
    {
        TextFormatTokenKind.End => "the end of the file",
        TextFormatTokenKind.String => "a string",
        _ => ClientText.Quoted(Text),
    };
}
