using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.Client;

/// <summary>
/// The real server with copies of ctr-ranker whose batches wait 5 s for company, so that a lone
/// request stays queued: one lets a request's <c>timeout</c> lower its deadline and rejects on
/// expiry, the others ignore the parameter. One model per test, so that no test's leftovers join
/// another's batch; and one, "plain", that answers at once.
/// </summary>
public sealed class QueueHoldingServer : IAsyncLifetime
{
    private readonly TempRepository _repository = new();
    private WebApplication? _app;

    public Uri Address { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The server's gRPC endpoint (an ephemeral port).</summary>
    public Uri GrpcAddress { get; private set; } = null!;

    /// <summary>The requests in the queue of <paramref name="model"/>'s served version.</summary>
    public int QueueDepth(string model) =>
        _app!.Services.GetRequiredService<LowLatency.Engine.Serving.InferenceEngine>().TryGetModel(model, out var served) ? served.Latest.QueueDepth : throw new InvalidOperationException($"{model} is not served");

    public async Task InitializeAsync()
    {
        _repository.AddModel("plain", Config("plain", string.Empty).Replace("5000000", "0", StringComparison.Ordinal));
        _repository.AddModel("reject-on-timeout", Config("reject-on-timeout", """, "default_queue_policy": {"timeout_action": "REJECT", "allow_timeout_override": true}"""));
        foreach (var name in new[] { "held-deadline", "held-cancel" })
        {
            _repository.AddModel(name, Config(name, string.Empty));
        }

        (_app, Address) = await ServerFixture.StartAsync(_repository.Root);
        GrpcAddress = ServerFixture.GrpcAddressOf(_app);
        Http = new HttpClient { BaseAddress = Address };
        await ServerFixture.WaitReadyAsync(Http);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _repository.Dispose();
    }

    private static string Config(string name, string policy) => $$$"""
        {"name": "{{{name}}}", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "sparse", "data_type": "TYPE_INT64", "dims": [26]}, {"name": "dense", "data_type": "TYPE_FP32", "dims": [13]}],
         "output": [{"name": "probability", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {"max_queue_delay_microseconds": 5000000{{{policy}}}}}
        """;
}
