using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Net.Client;
using Inference;

// usage: grpcload <address> <seconds> <concurrency> <golden.json> <model>
// Closed loop: <concurrency> calls in flight on one HTTP/2 connection; prints "requests/s".
string address = args[0];
double seconds = double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
int concurrency = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
using var doc = JsonDocument.Parse(File.ReadAllBytes(args[3]));
var request = new ModelInferRequest { ModelName = args[4] };
foreach (var input in doc.RootElement.GetProperty("request").GetProperty("inputs").EnumerateArray())
{
    string type = input.GetProperty("datatype").GetString()!;
    var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.GetProperty("name").GetString(), Datatype = type };
    tensor.Shape.AddRange(input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    var values = input.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
    byte[] bytes = type == "FP32" ? MemoryMarshal.AsBytes(values.Select(v => (float)v).ToArray().AsSpan()).ToArray() : MemoryMarshal.AsBytes(values.Select(v => (long)v).ToArray().AsSpan()).ToArray();
    request.Inputs.Add(tensor);
    request.RawInputContents.Add(ByteString.CopyFrom(bytes));
}

using var channel = GrpcChannel.ForAddress(address);
var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
await client.ModelInferAsync(request);
long done = 0;
var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
var loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
{
    while (Stopwatch.GetTimestamp() < until)
    {
        await client.ModelInferAsync(request);
        Interlocked.Increment(ref done);
    }
})).ToArray();
var start = Stopwatch.GetTimestamp();
await Task.WhenAll(loops);
Console.WriteLine($"Requests/sec: {done / Stopwatch.GetElapsedTime(start).TotalSeconds:F1}");
