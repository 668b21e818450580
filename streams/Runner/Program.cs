using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LowLatency.Features.Definitions;
using LowLatency.StreamRunner;
using LowLatency.Streams.Generation;
using LowLatency.Streams.Processing;
using StackExchange.Redis;

// streamrunner stream [--name value ...]   the processor (StreamProcessorOptions' names)
// streamrunner events [--name value ...]   the generator (EventGeneratorOptions' names, and
//                                           --repository, --source, --connection-string, --final-watermark)
string command = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "stream";
try
{
    var named = Arguments.Parse(args.SkipWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray());
    return command switch
    {
        "stream" => await Stream(named),
        "events" => await Events(named),
        _ => Fail($"unknown command \"{command}\": stream or events"),
    };
}
catch (Exception e) when (e is FeatureRepositoryException or ArgumentException or FormatException or RedisConnectionException)
{
    return Fail(e.Message);
}

static async Task<int> Stream(Dictionary<string, string> named)
{
    var options = Arguments.Bind(new StreamProcessorOptions(), named);
    var service = new StreamProcessorService(options);
    using var stop = new CancellationTokenSource();
    using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
    await service.StartAsync(CancellationToken.None);
    var processor = service.Processor!;
    Console.WriteLine($"streaming as {service.Member}: {options.Repository}, group {options.Group} on {options.ConnectionString}");
    var clock = Stopwatch.StartNew();
    while (!stop.IsCancellationRequested && processor.Failure is null)
    {
        try
        {
            await Task.Delay(1000, stop.Token);
        }
        catch (OperationCanceledException)
        {
            break;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{clock.Elapsed.TotalSeconds,6:F1} s  entries {processor.Entries}  rows {processor.RowsWritten}  checkpoints {processor.Checkpoints}  partitions [{string.Join(',', processor.Owned)}]  watermark {processor.CombinedWatermark}"));
    }

    var failure = processor.Failure;
    await service.StopAsync(CancellationToken.None);
    Console.WriteLine(failure is null ? "stopped: partitions checkpointed and released" : "failed: " + failure);
    return failure is null ? 0 : 1;
}

static async Task<int> Events(Dictionary<string, string> named)
{
    string repository = named.Remove("repository", out var r) ? r : "streams/feature_repo";
    string? sourceName = named.Remove("source", out var s) ? s : null;
    string connection = named.Remove("connection-string", out var c) ? c : "127.0.0.1:6379";
    long? final = named.Remove("final-watermark", out var f) ? long.Parse(f, CultureInfo.InvariantCulture) : null;
    var options = Arguments.Bind(new EventGeneratorOptions(), named);
    if (options.StartMs == 0)
    {
        options.StartMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    var repo = FeatureRepositoryReader.Read(repository);
    var source = (sourceName is null ? repo.StreamSources.FirstOrDefault() : repo.StreamSource(sourceName))
        ?? throw new ArgumentException($"no stream source {sourceName} in {repository}");
    await using var redis = await ConnectionMultiplexer.ConnectAsync(connection);
    var appender = new StreamAppender(redis.GetDatabase(), source);
    var clock = Stopwatch.StartNew();
    await appender.RunAsync(new EventGenerator(options), options);
    if (final is { } wm)
    {
        appender.Heartbeat(wm);
        await appender.FlushAsync();
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"appended {appender.Appended} events to {source.Stream}:0..{source.Partitions - 1} in {clock.Elapsed.TotalSeconds:F2} s ({appender.Appended / clock.Elapsed.TotalSeconds:F0}/s)"));
    return 0;
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
