using System.Buffers;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using LowLatency.Tests.Infrastructure;
using MessagePack;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// Every protocol datatype, both encodings, through an identity TorchScript model (it returns its
/// input, whatever the dtype): what goes in must come back, bit for bit in MessagePack.
/// </summary>
public sealed class DatatypeTests : IAsyncLifetime
{
    private static readonly string[] Types = ["BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64"];

    // Values every type can hold exactly (bf16 keeps 8 significant bits).
    private static readonly double[] Values = [1, 0, 1, 1, 0, 1];
    private static readonly double[] Signed = [3, -2, 0, 127, -128, 5];
    private static readonly double[] Floats = [1.5, -2, 0.25, 3, -0.5, 96];

    private TempRepository _repo = null!;
    private Microsoft.AspNetCore.Builder.WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _repo = new TempRepository();
        byte[] identity = File.ReadAllBytes(Path.Combine(RepoPaths.Root, "perf", "models", "identity", "1", "model.pt"));
        foreach (var t in Types)
        {
            string name = "id-" + t.ToLowerInvariant();
            _repo.AddModel(name, $$"""
                {"name": "{{name}}", "platform": "pytorch_libtorch", "max_batch_size": 4,
                 "input": [{"name": "x", "data_type": "TYPE_{{t}}", "dims": [3]}],
                 "output": [{"name": "y", "data_type": "TYPE_{{t}}", "dims": [3]}]}
                """, identity);
        }

        Uri address;
        (_app, address) = await ServerFixture.StartAsync(_repo.Root);
        _client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(_client);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _repo.Dispose();
    }

    private static double[] ValuesFor(string type) => type switch
    {
        "BOOL" => Values,
        "UINT8" => [3, 0, 255, 1, 7, 200],
        "FP16" or "BF16" or "FP32" or "FP64" => Floats,
        _ => Signed,
    };

    public static IEnumerable<object[]> AllTypes() => Types.Select(t => new object[] { t });

    [Theory]
    [MemberData(nameof(AllTypes))]
    public async Task JSON_round_trips_every_datatype(string type)
    {
        var values = ValuesFor(type);
        string data = type == "BOOL"
            ? string.Join(",", values.Select(v => v != 0 ? "true" : "false"))
            : string.Join(",", values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        string body = $$"""{"inputs": [{"name": "x", "datatype": "{{type}}", "shape": [2, 3], "data": [{{data}}]}]}""";
        using var response = await _client.PostAsync($"/v2/models/id-{type.ToLowerInvariant()}/infer", ServerFixture.Body(System.Text.Encoding.UTF8.GetBytes(body), Wire.Json));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        using var doc = JsonDocument.Parse(bytes);
        var output = doc.RootElement.GetProperty("outputs")[0];
        Assert.Equal(type, output.GetProperty("datatype").GetString());
        Assert.Equal([2L, 3L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var got = output.GetProperty("data").EnumerateArray().Select(e => e.ValueKind switch
        {
            JsonValueKind.True => 1.0,
            JsonValueKind.False => 0.0,
            _ => e.GetDouble(),
        });
        Assert.Equal(values, got);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public async Task MessagePack_round_trips_every_datatype_bit_for_bit(string type)
    {
        byte[] raw = Raw(type, ValuesFor(type));
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(1);
        w.Write("inputs");
        w.WriteArrayHeader(1);
        w.WriteMapHeader(4);
        w.Write("name");
        w.Write("x");
        w.Write("datatype");
        w.Write(type);
        w.Write("shape");
        w.WriteArrayHeader(2);
        w.Write(2);
        w.Write(3);
        w.Write("data");
        w.Write(raw);
        w.Flush();
        using var response = await _client.PostAsync($"/v2/models/id-{type.ToLowerInvariant()}/infer", ServerFixture.Body(buffer.WrittenSpan.ToArray(), Wire.MsgPack));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var map = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(await response.Content.ReadAsByteArrayAsync())!;
        var output = (Dictionary<object, object>)((object[])map["outputs"])[0];
        Assert.Equal(type, output["datatype"]);
        Assert.Equal(raw, (byte[])output["data"]);
    }

    private static byte[] Raw(string type, double[] v) => type switch
    {
        "BOOL" or "UINT8" => v.Select(x => (byte)x).ToArray(),
        "INT8" => v.Select(x => unchecked((byte)(sbyte)x)).ToArray(),
        "INT16" => MemoryMarshal.AsBytes(v.Select(x => (short)x).ToArray().AsSpan()).ToArray(),
        "INT32" => MemoryMarshal.AsBytes(v.Select(x => (int)x).ToArray().AsSpan()).ToArray(),
        "INT64" => MemoryMarshal.AsBytes(v.Select(x => (long)x).ToArray().AsSpan()).ToArray(),
        "FP16" => MemoryMarshal.AsBytes(v.Select(x => (Half)x).ToArray().AsSpan()).ToArray(),
        "BF16" => MemoryMarshal.AsBytes(v.Select(x => (ushort)(BitConverter.SingleToUInt32Bits((float)x) >> 16)).ToArray().AsSpan()).ToArray(),
        "FP32" => MemoryMarshal.AsBytes(v.Select(x => (float)x).ToArray().AsSpan()).ToArray(),
        _ => MemoryMarshal.AsBytes(v.ToArray().AsSpan()).ToArray(),
    };
}
