using System.Buffers;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// Feature-joined inference on the engine: a request of entity ids and context, its features read
/// from the example repository's store and laid into the model's inputs, answered as PyTorch
/// answered over the same joined tensors; defaults and statuses where a row is missing.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class JoinedInferenceTests(JoinedModelFixture fixture) : IClassFixture<JoinedModelFixture>
{
    private InferenceRequest Build(InferDoc doc) => JoinedGolden.Fill(fixture.Model.RentRequest(), doc);

    private static TensorDoc Output(InferenceRequest r, int index)
    {
        var spec = r.Config.Outputs[index];
        return new TensorDoc(spec.Name, spec.DataType.ProtocolName(), r.OutputShape(index).ToArray(), Wire.Decode(spec.DataType.ProtocolName(), r.OutputData(index).ToArray()));
    }

    [Fact]
    public async Task Ids_in_PyTorchs_answer_out_over_the_joined_tensors_with_defaults_where_rows_are_missing()
    {
        using var r = Build(fixture.Golden.Request);
        var joined = await fixture.Joiner.JoinAsync(r);
        Assert.Equal(fixture.Golden.ExpectedStatuses, joined.Statuses);
        Assert.Equal(joined.Microseconds, r.PrecedingMicroseconds);

        // The tensors the join built are the ones PyTorch ran on, byte for byte.
        foreach (var expected in fixture.Golden.JoinedInputs)
        {
            int index = r.Config.InputIndex(expected.Name);
            Assert.Equal(expected.Shape, r.InputShape(index).ToArray());
            Assert.Equal(Wire.Encode(expected.Datatype, expected.Values), r.InputData(index).ToArray());
        }

        Assert.True(await fixture.Model.InferAsync(r), r.Error);
        Wire.AssertClose(fixture.Golden.Expected[0], Output(r, 0));
    }

    [Fact]
    public void A_warm_join_from_the_near_cache_completes_at_once_and_allocates_nothing()
    {
        using var r = Build(fixture.Golden.Request);
        for (int i = 0; i < 20; i++)
        {
            _ = Completed(fixture.Joiner.JoinAsync(r));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            _ = Completed(fixture.Joiner.JoinAsync(r));
        }

        // The golden has rows not found, so its statuses string is made per join: ask rows all present.
        long withStatuses = GC.GetAllocatedBytesForCurrentThread() - before;
        using var present = Build(fixture.Golden.Request with { Inputs = [Ids("user_id", 1001, 1001), Ids("item_id", 1, 2), Context(2)] });
        for (int i = 0; i < 20; i++)
        {
            _ = Completed(fixture.Joiner.JoinAsync(present));
        }

        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Assert.Null(Completed(fixture.Joiner.JoinAsync(present)).Statuses);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(withStatuses > 0);
    }

    [Fact]
    public async Task A_miss_under_a_deadline_of_100_days_reads_the_store_as_any_other()
    {
        // Ids nothing has read yet: the join waits for the store. A budget past what a timer takes
        // (CancelAfter refuses ~50 days) is left to the store's read timeout.
        using var r = Build(new InferDoc(null, [Ids("user_id", 1002, 1002), Ids("item_id", 5, 4), Context(2)]));
        r.DeadlineMicroseconds = 100L * 86_400 * 1_000_000;
        var joined = await fixture.Joiner.JoinAsync(r);
        Assert.Null(joined.Statuses);
        Assert.True(await fixture.Model.InferAsync(r), r.Error);
    }

    [Fact]
    public void Entity_ids_are_required_and_joined_inputs_are_not_the_clients()
    {
        using var r = fixture.Model.RentRequest();
        var e = Assert.Throws<InferenceException>(() => fixture.Joiner.JoinAsync(r));
        Assert.Equal(InferenceStatus.BadRequest, e.Status);
        Assert.Contains("missing input 'user_id': the ids of entity 'user'", e.Message);

        int dense = r.Config.InputIndex("dense");
        e = Assert.Throws<InferenceException>(() => r.AddInput(dense, TensorDataType.FP32, [1, 16]));
        Assert.Contains("input 'dense' of model 'candidate-ranker' is joined from the feature store: send the entity ids instead ('user_id', 'item_id')", e.Message);

        using var mismatched = Build(new InferDoc(null, [Ids("user_id", 1001, 1002), Ids("item_id", 1), Context(2)]));
        e = Assert.Throws<InferenceException>(() => fixture.Joiner.JoinAsync(mismatched));
        Assert.Contains("input 'item_id': batch size 1 differs from the other entity inputs' 2", e.Message);
    }

    [Fact]
    public void The_metadata_lists_what_a_client_sends()
    {
        var config = fixture.Model.Config;
        Assert.Equal(["context", "user_id", "item_id"], config.ClientInputs.Select(t => t.Name));
        Assert.Equal(TensorDataType.Int64, config.InputSpec(config.InputIndex("user_id")).DataType);
        Assert.Equal(3, config.Inputs.Count);
    }

    private static LowLatency.Join.JoinResult Completed(ValueTask<LowLatency.Join.JoinResult> join)
    {
        Assert.True(join.IsCompletedSuccessfully, "the join waited for the store");
        return join.Result;
    }

    private static TensorDoc Ids(string name, params long[] ids) => new(name, "INT64", [ids.Length, 1], [.. ids.Select(i => (double)i)]);

    private static TensorDoc Context(int rows) => new("context", "FP32", [rows, 2], new double[rows * 2]);
}
