using System.Buffers;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;
using LowLatency.Tests.Infrastructure;
using MessagePack;

namespace LowLatency.Tests.Protocol;

/// <summary>The MessagePack decoder on its own: what it keeps of the client's text, and what it refuses.</summary>
public sealed class MsgPackRequestDecoderTests
{
    private static readonly ModelConfig CtrRanker = ModelConfigReader.Read(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json"));

    [Fact]
    public void An_id_of_up_to_256_bytes_is_kept_and_a_longer_one_is_refused_naming_the_cap()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        string at = new('é', 128);
        var request = InferenceRequest.ForConfig(CtrRanker);
        MsgPackRequestDecoder.Decode(new ReadOnlySequence<byte>((golden.Request with { Id = at }).ToMsgPack()), request);
        Assert.Equal(at, request.Id);

        foreach (var id in new[] { at + "<", new string('<', 1 << 20) })
        {
            var e = Assert.Throws<InferenceException>(() => MsgPackRequestDecoder.Decode(new ReadOnlySequence<byte>((golden.Request with { Id = id }).ToMsgPack()), InferenceRequest.ForConfig(CtrRanker)));
            Assert.Equal(InferenceStatus.BadRequest, e.Status);
            Assert.Equal("'id' is longer than 256 bytes, the most this server accepts", e.Message);
        }
    }

    [Fact]
    public void An_unknown_field_is_quoted_at_most_128_characters_long_marked_as_cut()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(1);
        w.Write(new string('<', 200));
        w.Write(1);
        w.Flush();

        var e = Assert.Throws<InferenceException>(() => MsgPackRequestDecoder.Decode(new ReadOnlySequence<byte>(buffer.WrittenMemory), InferenceRequest.ForConfig(CtrRanker)));

        Assert.StartsWith("unknown field '" + new string('<', 128) + "…' (cut from 200 bytes)", e.Message, StringComparison.Ordinal);
    }
}
