using System.Buffers;
using System.Text;

namespace LowLatency.Client;

/// <summary>UTF-8 helpers that allocate nothing on the way.</summary>
internal static class Utf8Text
{
    /// <summary>Whether <paramref name="utf8"/> is <paramref name="text"/> in UTF-8.</summary>
    public static bool Equals(ReadOnlySpan<byte> utf8, string text)
    {
        // A UTF-16 char becomes one to three bytes.
        if (utf8.Length < text.Length || utf8.Length > text.Length * 3)
        {
            return false;
        }

        byte[]? rented = null;
        Span<byte> encoded = utf8.Length <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(text.Length * 3));
        try
        {
            return Encoding.UTF8.TryGetBytes(text, encoded, out int written) && encoded[..written].SequenceEqual(utf8);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The most bytes <paramref name="text"/> takes in UTF-8.</summary>
    public static int MaxBytes(string? text) => text is null ? 0 : checked(text.Length * 3);
}
