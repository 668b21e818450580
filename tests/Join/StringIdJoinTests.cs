using System.Buffers;
using System.Text;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// Joined inference with STRING entity ids on the engine: the ids in a BYTES input, the rows read by
/// string, the joined tensors byte for byte the golden's and PyTorch's answer over them; a warm join
/// from the near cache allocates nothing; consecutive equal ids read once.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class StringIdJoinTests(StringIdModelFixture fixture) : IClassFixture<StringIdModelFixture>
{
    private InferenceRequest Build(string[] ids, InferDoc others)
    {
        var r = JoinedGolden.Fill(fixture.Model.RentRequest(), others);
        int index = r.Config.InputIndex(StringIds.Input);
        var spec = r.Config.InputSpec(index);
        var dst = r.AddInput(index, TensorDataType.Bytes, [ids.Length, 1]);
        for (int i = 0; i < ids.Length; i++)
        {
            BytesElements.Write(dst, i, Encoding.UTF8.GetBytes(ids[i]), spec);
        }

        return r;
    }

    private InferenceRequest Golden() => Build(StringIds.Ids(fixture.Golden.Request), StringIds.Others(fixture.Golden.Request));

    [Fact]
    public async Task String_ids_in_PyTorchs_answer_out_over_the_golden_joined_tensors()
    {
        using var r = Golden();
        var joined = await fixture.Joiner.JoinAsync(r);
        Assert.Equal(fixture.Golden.ExpectedStatuses, joined.Statuses);
        foreach (var expected in fixture.Golden.JoinedInputs)
        {
            int index = r.Config.InputIndex(expected.Name);
            Assert.Equal(Wire.Encode(expected.Datatype, expected.Values), r.InputData(index).ToArray());
        }

        Assert.True(await fixture.Model.InferAsync(r), r.Error);
        var spec = r.Config.Outputs[0];
        Wire.AssertClose(fixture.Golden.Expected[0], new TensorDoc(spec.Name, "FP32", r.OutputShape(0).ToArray(), Wire.Decode("FP32", r.OutputData(0).ToArray())));
    }

    [Fact]
    public void The_entity_input_is_BYTES_at_the_stride_of_max_id_bytes()
    {
        var config = fixture.Model.Config;
        var user = config.InputSpec(config.InputIndex(StringIds.Input));
        Assert.Equal(TensorDataType.Bytes, user.DataType);
        Assert.Equal(EntityInputConfig.DefaultMaxIdBytes, user.MaxElementBytes);
        Assert.Equal(4 + 64, user.ElementSize);
        Assert.Equal(TensorDataType.Int64, config.InputSpec(config.InputIndex("item_id")).DataType);
        Assert.Equal(["context", "user_id", "item_id"], config.ClientInputs.Select(t => t.Name));
    }

    [Fact]
    public async Task A_warm_join_of_string_ids_from_the_near_cache_completes_at_once_and_allocates_nothing()
    {
        // Two users, each on two rows: every row present, consecutive equal ids read once.
        using var present = Build([StringIds.Of(1001), StringIds.Of(1001), StringIds.Of(1002), StringIds.Of(1002)], new InferDoc(null, [Ids("item_id", 1, 2, 4, 5), Context(4)]));
        await fixture.Joiner.JoinAsync(present);
        for (int i = 0; i < 20; i++)
        {
            _ = Completed(fixture.Joiner.JoinAsync(present));
        }

        var before = fixture.Store.Cache.Statistics;
        long bytes = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Assert.Null(Completed(fixture.Joiner.JoinAsync(present)).Statuses);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - bytes);

        // Per join: 2 user rows (not 4) and 4 item rows, all hits.
        Assert.Equal(100 * (2 + 4), fixture.Store.Cache.Statistics.Hits - before.Hits);
    }

    [Fact]
    public void A_BYTES_id_is_checked_as_it_is_written()
    {
        using var r = fixture.Model.RentRequest();
        int index = r.Config.InputIndex(StringIds.Input);
        var spec = r.Config.InputSpec(index);
        Assert.Equal(3 * spec.ElementSize, r.AddInput(index, TensorDataType.Bytes, [3, 1]).Length);
        var dst = new byte[3 * spec.ElementSize];
        BytesElements.Write(dst, 0, "x"u8, spec);
        Assert.Contains("input 'user_id': the id of row 1 is 65 bytes, over the 64", Assert.Throws<InferenceException>(() => BytesElements.Write(dst, 1, new byte[65], spec)).Message);
        Assert.Contains("input 'user_id': the id of row 2 is not valid UTF-8", Assert.Throws<InferenceException>(() => BytesElements.Write(dst, 2, [0xC0, 0x80], spec)).Message);
        Assert.True(BytesElements.Element(dst, 0, spec.ElementSize).SequenceEqual("x"u8));

        using var other = fixture.Model.RentRequest();
        var e = Assert.Throws<InferenceException>(() => other.AddInput(other.Config.InputIndex("context"), TensorDataType.Bytes, [1, 2]));
        Assert.Equal(InferenceStatus.BadRequest, e.Status);
        Assert.Contains("input 'context': datatype BYTES is taken only for the ids of a STRING entity", e.Message);
    }

    private static LowLatency.Join.JoinResult Completed(ValueTask<LowLatency.Join.JoinResult> join)
    {
        Assert.True(join.IsCompletedSuccessfully, "the join waited for the store");
        return join.Result;
    }

    private static TensorDoc Ids(string name, params long[] ids) => new(name, "INT64", [ids.Length, 1], [.. ids.Select(i => (double)i)]);

    private static TensorDoc Context(int rows) => new("context", "FP32", [rows, 2], new double[rows * 2]);
}
