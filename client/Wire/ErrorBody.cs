using System.Text;
using System.Text.Json;

namespace LowLatency.Client.Wire;

/// <summary>The server's error message from an error answer's body: <c>{"error": "..."}</c> in MessagePack or JSON.</summary>
internal static class ErrorBody
{
    public static string? Message(ReadOnlySpan<byte> body, string? mediaType)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            return mediaType is not null && mediaType.Contains("msgpack", StringComparison.OrdinalIgnoreCase) ? FromMsgPack(body) : FromJson(body);
        }
        catch (Exception e) when (e is MalformedAnswerException or JsonException)
        {
            // Not the server's error document (a proxy's page, say): its text, as far as it is short.
            return Encoding.UTF8.GetString(body[..Math.Min(body.Length, 1024)]);
        }
    }

    private static string? FromMsgPack(ReadOnlySpan<byte> body)
    {
        var r = new MsgPackReader(body);
        int fields = r.ReadMapHeader();
        for (int i = 0; i < fields; i++)
        {
            bool error = false;
            if (r.IsString)
            {
                error = r.ReadString().SequenceEqual("error"u8);
            }
            else
            {
                r.Skip();
            }

            if (error && r.IsString)
            {
                return Encoding.UTF8.GetString(r.ReadString());
            }

            r.Skip();
        }

        return null;
    }

    private static string? FromJson(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new MalformedAnswerException("not an error document");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool error = reader.ValueTextEquals("error"u8);
            reader.Read();
            if (error && reader.TokenType == JsonTokenType.String)
            {
                return reader.GetString();
            }

            reader.Skip();
        }

        return null;
    }
}
