using System.Buffers;
using Grpc.Core;

namespace LowLatency.Client.Wire;

/// <summary>
/// Reads a <c>ModelInferResponse</c> by hand. gRPC reuses the payload's buffer once the
/// deserializer returns, so the payload is copied once, into a pooled buffer the result owns; the
/// result then records where names and tensors lie in it, as the HTTP decoders do. Outputs come in
/// <c>raw_output_contents</c>, one per output in order (what Triton and LowLatency send); typed
/// <c>contents</c> are not read.
/// </summary>
internal static class GrpcResponseDecoder
{
    // ModelInferResponse's fields.
    private const int ModelName = 1;
    private const int ModelVersion = 2;
    private const int Id = 3;
    private const int Parameters = 4;
    private const int Outputs = 5;
    private const int RawOutputContents = 6;

    /// <summary>The marshaller's deserializer.</summary>
    public static InferResult Deserialize(DeserializationContext context)
    {
        int length = context.PayloadLength;
        var body = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        context.PayloadAsReadOnlySequence().CopyTo(body);
        var result = new InferResult(body);
        try
        {
            Decode(result, length);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    public static void Decode(InferResult result, int length)
    {
        var data = result.Body.AsSpan(0, length);
        int raw = 0;
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (wire != ProtoWriter.LengthDelimited || field > RawOutputContents)
            {
                r.Skip(wire);
                continue;
            }

            var slice = r.ReadLengthDelimited();
            switch (field)
            {
                case ModelName:
                    result.ModelNameSlice = slice;
                    break;
                case ModelVersion:
                    result.ModelVersionSlice = slice;
                    break;
                case Id:
                    result.IdSlice = slice;
                    break;
                case Parameters:
                    ReadParameter(result, data, slice);
                    break;
                case Outputs:
                    ReadOutput(result, data, slice);
                    break;
                case RawOutputContents:
                    raw++;
                    break;
            }
        }

        if (raw != result.OutputCount)
        {
            throw new MalformedAnswerException(raw == 0 && result.OutputCount > 0
                ? "the answer's outputs carry typed contents, not raw_output_contents: this client reads raw outputs only"
                : $"the answer has {result.OutputCount} outputs but {raw} raw_output_contents");
        }

        // A second pass gives each output its raw_output_contents, in order: protobuf lets the
        // repeated fields come in any order relative to each other.
        int next = 0;
        r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == RawOutputContents && wire == ProtoWriter.LengthDelimited)
            {
                result.EntryForUpdate(next++).Data = r.ReadLengthDelimited();
            }
            else
            {
                r.Skip(wire);
            }
        }

        for (int i = 0; i < result.OutputCount; i++)
        {
            OutputCheck.Filled(result, in result.Entry(i));
        }
    }

    private static void ReadOutput(InferResult result, ReadOnlySpan<byte> data, Slice message)
    {
        ref var entry = ref result.AddOutput();
        Slice datatype = Slice.None;
        var r = new ProtoReader(data.Slice(message.Offset, message.Length), message.Offset);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            switch (field, wire)
            {
                case (1, ProtoWriter.LengthDelimited):
                    entry.Name = r.ReadLengthDelimited();
                    break;
                case (2, ProtoWriter.LengthDelimited):
                    datatype = r.ReadLengthDelimited();
                    break;
                case (3, ProtoWriter.LengthDelimited):
                    // Packed, as proto3 writes repeated int64.
                    var packed = r.ReadLengthDelimited();
                    var dims = new ProtoReader(data.Slice(packed.Offset, packed.Length));
                    while (!dims.End)
                    {
                        result.AddDim((long)dims.ReadVarint());
                    }

                    break;
                case (3, ProtoWriter.VarintType):
                    // Unpacked, which parsers must accept too.
                    result.AddDim((long)r.ReadVarint());
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        OutputCheck.Datatype(result, ref entry, datatype.IsPresent ? data.Slice(datatype.Offset, datatype.Length) : default);
    }

    /// <summary>A <c>parameters</c> map entry: the server's <c>degraded</c> flag and reason, and a joined answer's <c>feature_statuses</c>.</summary>
    private static void ReadParameter(InferResult result, ReadOnlySpan<byte> data, Slice entry)
    {
        var r = new ProtoReader(data.Slice(entry.Offset, entry.Length), entry.Offset);
        Slice key = Slice.None, value = Slice.None;
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field is 1 or 2 && wire == ProtoWriter.LengthDelimited)
            {
                (field == 1 ? ref key : ref value) = r.ReadLengthDelimited();
            }
            else
            {
                r.Skip(wire);
            }
        }

        if (!key.IsPresent || !value.IsPresent)
        {
            return;
        }

        var name = data.Slice(key.Offset, key.Length);
        bool degraded = name.SequenceEqual("degraded"u8);
        bool statuses = !degraded && name.SequenceEqual("feature_statuses"u8);
        if (!degraded && !statuses && !name.SequenceEqual("degraded_reason"u8))
        {
            return;
        }

        // InferParameter: bool_param = 1, string_param = 3.
        var p = new ProtoReader(data.Slice(value.Offset, value.Length), value.Offset);
        while (!p.End)
        {
            var (field, wire) = p.ReadTag();
            if (degraded && field == 1 && wire == ProtoWriter.VarintType)
            {
                result.IsDegraded = p.ReadVarint() != 0;
            }
            else if (!degraded && field == 3 && wire == ProtoWriter.LengthDelimited)
            {
                if (statuses)
                {
                    result.FeatureStatusesSlice = p.ReadLengthDelimited();
                }
                else
                {
                    result.DegradedReasonSlice = p.ReadLengthDelimited();
                }
            }
            else
            {
                p.Skip(wire);
            }
        }
    }
}
