using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;

// A SharpFuzz (libFuzzer mode) harness for the request decoders: each input is decoded as a request
// body for a model, then validated, exactly as the infer endpoint does before submitting. A bad body
// must end in an InferenceException (the endpoint's 4xx); anything else escaping is a finding (it
// would be a 500). How to run it under libFuzzer or AFL++: docs/security.md#fuzzing.
//   LowLatency.Fuzz <msgpack|json|binary> <config.json>                   (under libfuzzer-dotnet)
//   LowLatency.Fuzz <msgpack|json|binary> <config.json> --afl             (under afl-fuzz)
//   LowLatency.Fuzz <msgpack|json|binary|grpc> <config.json> --replay <files or directories>
// binary: Triton's binary tensor data. An input's first 4 bytes (little-endian) are the
// Inference-Header-Content-Length header's value, fuzzed with the rest, which is the body.
// grpc: a ModelInferRequest message (without gRPC's 5-byte prefix), read by the gRPC face's decoder.
if (args.Length < 2 || args[0] is not ("msgpack" or "json" or "binary" or "grpc"))
{
    Console.Error.WriteLine("usage: LowLatency.Fuzz <msgpack|json|binary|grpc> <config.json> [--afl | --replay <files or directories>...]");
    return 2;
}

var format = args[0] == "msgpack" ? WireFormat.MsgPack : WireFormat.Json;
bool binary = args[0] == "binary";
bool grpc = args[0] == "grpc";
var config = ModelConfigReader.Read(args[1]);

void Target(ReadOnlySpan<byte> input)
{
    var request = InferenceRequest.ForConfig(config);
    var header = Microsoft.Extensions.Primitives.StringValues.Empty;
    var body = input;
    if (binary)
    {
        if (input.Length < 4)
        {
            return;
        }

        header = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(input).ToString(System.Globalization.CultureInfo.InvariantCulture);
        body = input[4..];
    }

    try
    {
        if (grpc)
        {
            var message = new System.Buffers.ReadOnlySequence<byte>(body.ToArray());
            LowLatency.Host.Grpc.GrpcRequestDecoder.ReadTarget(message, out _, out _, out _);
            LowLatency.Host.Grpc.GrpcRequestDecoder.Decode(message, request);
            request.Validate();
            return;
        }

        var outputs = RequestDecoder.Decode(format, new System.Buffers.ReadOnlySequence<byte>(body.ToArray()), request, header);
        request.Validate();
        for (int o = 0; o < request.OutputCount; o++)
        {
            _ = outputs.IsBinary(o);
        }
    }
    catch (InferenceException)
    {
        // The endpoint answers these 400/404/413 with the message: expected for a fuzzed body.
    }
}

if (args.Length > 2 && args[2] == "--replay")
{
    int n = 0;
    foreach (var path in args[3..])
    {
        foreach (var file in Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories) : [path])
        {
            Target(File.ReadAllBytes(file));
            n++;
        }
    }

    Console.WriteLine($"replayed {n} inputs: no finding");
    return 0;
}

if (args.Length > 2 && args[2] == "--afl")
{
    // AFL++ (Debian's afl++ package) feeds each input on stdin; the harness stays up between them.
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        Target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    });
    return 0;
}

SharpFuzz.Fuzzer.LibFuzzer.Run(Target);
return 0;
