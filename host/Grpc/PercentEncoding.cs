using System.Text;

namespace LowLatency.Host.Grpc;

/// <summary>
/// <c>grpc-message</c>'s encoding (gRPC over HTTP/2): printable ASCII but '%' as it is, every other
/// UTF-8 byte as %XX, so that any message survives as a header value.
/// </summary>
internal static class PercentEncoding
{
    public static string Encode(string message)
    {
        bool plain = true;
        foreach (char c in message)
        {
            if (c is < ' ' or > '~' or '%')
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return message;
        }

        var sb = new StringBuilder(message.Length + 16);
        foreach (byte b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= (byte)' ' and <= (byte)'~' and not (byte)'%')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(Convert.ToHexString([b]));
            }
        }

        return sb.ToString();
    }
}
