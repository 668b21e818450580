using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// One kept-alive HTTP/1.1 connection over raw TCP, as a client that reuses its connections sees the
/// server: requests written as they are, each answer read whole (headers, then a Content-Length body),
/// and whether the server closed the connection after it.
/// </summary>
internal sealed class RawHttpConnection : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawHttpConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawHttpConnection> OpenAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return new RawHttpConnection(tcp);
    }

    /// <summary>A POST of <paramref name="body"/> with its Content-Length, keeping the connection alive.</summary>
    public static byte[] Post(string path, string contentType, byte[] body) =>
        [.. Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n\r\n"), .. body];

    public async Task SendAsync(byte[] request) => await _stream.WriteAsync(request);

    /// <summary>The next answer on the connection; throws when the server closes it first.</summary>
    public async Task<Answer> ReadAnswerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd()) < 0)
        {
            if (!await FillAsync(cts.Token))
            {
                throw new IOException("the server closed the connection before its answer");
            }
        }

        var lines = Encoding.Latin1.GetString(_buffer, _start, headerEnd - _start).Split("\r\n");
        _start = headerEnd + 4;
        int status = int.Parse(lines[0].AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        int length = headers.TryGetValue("Content-Length", out var l) ? int.Parse(l, CultureInfo.InvariantCulture) : 0;
        while (_end - _start < length)
        {
            if (!await FillAsync(cts.Token))
            {
                throw new IOException("the server closed the connection inside its answer");
            }
        }

        var body = _buffer.AsSpan(_start, length).ToArray();
        _start += length;
        return new Answer(status, headers, body);
    }

    /// <summary>Whether the server closes the connection (end of stream or a reset) within <paramref name="timeout"/>, sending nothing more.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return _end == _start && !await FillAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private int IndexOfHeaderEnd() => _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8) is var i and >= 0 ? _start + i : -1;

    private async Task<bool> FillAsync(CancellationToken cancel)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            (_start, _end) = (0, _end - _start);
        }

        int n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancel);
        _end += n;
        return n > 0;
    }

    public void Dispose() => _tcp.Dispose();

    /// <summary>An answer: its status, its headers (the last of each name) and its body.</summary>
    public sealed record Answer(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);
}
