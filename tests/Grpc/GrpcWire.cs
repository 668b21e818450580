using Google.Protobuf;
using Grpc.Net.Client;
using Inference;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Grpc;

/// <summary>The tests' documents as the generated gRPC messages, and a channel to a server's gRPC listener.</summary>
public static class GrpcWire
{
    public static GrpcChannel Channel(Uri address, HttpMessageHandler? handler = null) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null, HttpHandler = handler });

    public static GRPCInferenceService.GRPCInferenceServiceClient Client(GrpcChannel channel) => new(channel);

    /// <summary>Waits until the server reports ready over gRPC (models loaded).</summary>
    public static async Task WaitReadyAsync(GRPCInferenceService.GRPCInferenceServiceClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!(await client.ServerReadyAsync(new ServerReadyRequest())).Ready)
        {
            Assert.True(DateTime.UtcNow < deadline, "the server did not become ready");
            await Task.Delay(50);
        }
    }

    /// <summary>The request with each input's bytes in raw_input_contents (<paramref name="raw"/>) or its values in typed contents.</summary>
    public static ModelInferRequest Request(string model, InferDoc doc, bool raw)
    {
        var request = new ModelInferRequest { ModelName = model };
        if (doc.Id is not null)
        {
            request.Id = doc.Id;
        }

        foreach (var t in doc.Inputs)
        {
            var input = new ModelInferRequest.Types.InferInputTensor { Name = t.Name, Datatype = t.Datatype };
            input.Shape.AddRange(t.Shape);
            if (raw)
            {
                request.RawInputContents.Add(ByteString.CopyFrom(Wire.Encode(t.Datatype, t.Values)));
            }
            else
            {
                input.Contents = Contents(t.Datatype, t.Values);
            }

            request.Inputs.Add(input);
        }

        foreach (var o in doc.Outputs ?? [])
        {
            request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = o });
        }

        return request;
    }

    public static InferTensorContents Contents(string datatype, double[] values)
    {
        var c = new InferTensorContents();
        switch (datatype)
        {
            case "FP32":
                c.Fp32Contents.AddRange(values.Select(v => (float)v));
                break;
            case "FP64":
                c.Fp64Contents.AddRange(values);
                break;
            case "INT32":
                c.IntContents.AddRange(values.Select(v => (int)v));
                break;
            default:
                c.Int64Contents.AddRange(values.Select(v => (long)v));
                break;
        }

        return c;
    }

    /// <summary>The answer's outputs, read from raw_output_contents as Triton's clients read them.</summary>
    public static InferResult Result(ModelInferResponse response)
    {
        Assert.Equal(response.Outputs.Count, response.RawOutputContents.Count);
        var outputs = response.Outputs.Select((o, i) => new TensorDoc(o.Name, o.Datatype, [.. o.Shape], Wire.Decode(o.Datatype, response.RawOutputContents[i].ToByteArray()))).ToList();
        return new InferResult(response.ModelName, response.ModelVersion, response.Id.Length == 0 ? null : response.Id, outputs);
    }
}
