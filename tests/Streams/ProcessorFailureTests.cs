using System.Diagnostics.Metrics;
using LowLatency.Features.Store;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;

namespace LowLatency.Tests.Streams;

/// <summary>
/// A processor whose loop meets an error it cannot go on from stops, says so to whoever asked
/// (the server logs it as critical), and counts it in <c>failures</c>, instead of ending silently.
/// </summary>
public sealed class ProcessorFailureTests
{
    [Fact]
    public async Task An_error_the_loop_cannot_go_on_from_is_reported_counted_and_ends_it()
    {
        using var repo = new StreamRepository(port: 1, partitions: 1);
        var broken = new BrokenSource(repo.Source);
        Exception? told = null;
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "LowLatency.Streams" && instrument.Name == "failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();

        var processor = new StreamProcessor(StreamRun.Options(), repo.Source, broken, new NoStore()) { Failed = e => told = e };
        processor.Start();
        await processor.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Same(broken.Thrown, processor.Failure);
        Assert.Same(broken.Thrown, told);
        Assert.True(Interlocked.Read(ref counted) >= 1, "counted in failures");
        await processor.DisposeAsync();
    }

    /// <summary>A log whose group membership fails with something that is not a connection error.</summary>
    private sealed class BrokenSource(LowLatency.Features.Definitions.StreamSource definition) : IStreamSource
    {
        public InvalidDataException Thrown { get; } = new("the group's membership record is unreadable");

        public LowLatency.Features.Definitions.StreamSource Definition => definition;

        public string Member => "broken";

        public Task<IReadOnlySet<int>> HeartbeatAsync() => throw Thrown;

        public Task<IPartitionLog?> TryAcquireAsync(int partition) => throw Thrown;

        public Task<long> LagAsync(int partition) => Task.FromResult(0L);

        public Task LeaveAsync() => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class NoStore : IOnlineStore
    {
        public ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
