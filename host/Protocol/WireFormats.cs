using Microsoft.Extensions.Primitives;

namespace LowLatency.Host.Protocol;

/// <summary>The media types of the two encodings, and which one a request and its response use.</summary>
internal static class WireFormats
{
    public const string JsonType = "application/json";
    public const string MsgPackType = "application/msgpack";
    public const string MsgPackAltType = "application/x-msgpack";

    /// <summary>
    /// The request's encoding from Content-Type; a missing Content-Type means JSON, as in KServe, and
    /// application/octet-stream is JSON followed by binary tensors (<see cref="BinaryTensorData"/>).
    /// </summary>
    public static bool TryFromContentType(string? contentType, out WireFormat format)
    {
        format = WireFormat.Json;
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }

        var media = contentType.AsSpan();
        int semi = media.IndexOf(';');
        if (semi >= 0)
        {
            media = media[..semi];
        }

        media = media.Trim();
        if (media.Equals(JsonType, StringComparison.OrdinalIgnoreCase) || media.Equals(BinaryTensorData.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (media.Equals(MsgPackType, StringComparison.OrdinalIgnoreCase) || media.Equals(MsgPackAltType, StringComparison.OrdinalIgnoreCase))
        {
            format = WireFormat.MsgPack;
            return true;
        }

        return false;
    }

    /// <summary>
    /// A feature-server request's encoding (<c>/get-online-features</c>, <c>/push</c>): JSON when
    /// Content-Type is missing, JSON, or <c>application/x-www-form-urlencoded</c> (what <c>curl -d</c>
    /// sends, as Feast's own examples do, and Feast reads as JSON); MessagePack for its two types.
    /// No binary tensor form: these bodies hold ids and values, not tensors.
    /// </summary>
    public static bool TryFromFeatureContentType(string? contentType, out WireFormat format)
    {
        format = WireFormat.Json;
        var media = MediaType(contentType);
        if (media.Equals(FormType, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return !media.Equals(BinaryTensorData.ContentType, StringComparison.OrdinalIgnoreCase) && TryFromContentType(contentType, out format);
    }

    private const string FormType = "application/x-www-form-urlencoded";

    private static ReadOnlySpan<char> MediaType(string? contentType)
    {
        var media = contentType.AsSpan();
        int semi = media.IndexOf(';');
        return (semi >= 0 ? media[..semi] : media).Trim();
    }

    /// <summary>
    /// The Content-Type's <c>charset</c> parameter when it names anything but UTF-8 (<c>utf-8</c> or
    /// <c>utf8</c>, any case, quoted or not); null when there is none or it is UTF-8. Every body is
    /// read as UTF-8 (MessagePack's strings are UTF-8 by its specification), so another charset is
    /// refused rather than misread.
    /// </summary>
    public static string? ForeignCharset(string? contentType)
    {
        var rest = contentType.AsSpan();
        int semi = rest.IndexOf(';');
        while (semi >= 0)
        {
            rest = rest[(semi + 1)..];
            semi = rest.IndexOf(';');
            var parameter = (semi >= 0 ? rest[..semi] : rest).Trim();
            int eq = parameter.IndexOf('=');
            if (eq < 0 || !parameter[..eq].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = parameter[(eq + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            return value.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || value.Equals("utf8", StringComparison.OrdinalIgnoreCase) ? null : value.ToString();
        }

        return null;
    }

    /// <summary>The response's encoding: the first of ours that Accept names, else the request's.</summary>
    public static WireFormat FromAccept(StringValues accept, WireFormat requestFormat)
    {
        foreach (var value in accept)
        {
            if (value is null)
            {
                continue;
            }

            int json = value.IndexOf(JsonType, StringComparison.OrdinalIgnoreCase);
            int msgpack = value.IndexOf("msgpack", StringComparison.OrdinalIgnoreCase);
            if (json >= 0 && (msgpack < 0 || json < msgpack))
            {
                return WireFormat.Json;
            }

            if (msgpack >= 0)
            {
                return WireFormat.MsgPack;
            }
        }

        return requestFormat;
    }

    public static string ContentType(WireFormat format) => format == WireFormat.MsgPack ? MsgPackType : JsonType;
}
