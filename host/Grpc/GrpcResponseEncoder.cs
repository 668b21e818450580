using System.Buffers;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using static LowLatency.Host.Grpc.ProtoWriter;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Writes a <c>ModelInferResponse</c> straight from the batch's output tensors into the response
/// (Kestrel's pipe): its size computed first (a field's length precedes it, and so does gRPC's
/// message prefix), then the fields, each output's bytes in <c>raw_output_contents</c> as Triton
/// answers (every output, in the order of <c>outputs</c>). No message object, no intermediate array.
/// </summary>
internal static class GrpcResponseEncoder
{
    // ModelInferResponse's fields.
    private const int ModelNameField = 1;
    private const int ModelVersionField = 2;
    private const int IdField = 3;
    private const int ParametersField = 4;
    private const int OutputsField = 5;
    private const int RawOutputContentsField = 6;

    // ModelStreamInferResponse's.
    private const int ErrorMessageField = 1;
    private const int InferResponseField = 2;

    /// <summary>The answer as one gRPC message: prefix and <c>ModelInferResponse</c>.</summary>
    public static void WriteMessage(IBufferWriter<byte> w, InferenceRequest request, string? degraded, string? featureStatuses = null)
    {
        long size = Size(request, degraded, featureStatuses);
        WriteMessagePrefix(w, size);
        Write(w, request, degraded, featureStatuses);
    }

    /// <summary>The size of <see cref="WriteStream"/>'s <c>ModelStreamInferResponse</c>.</summary>
    public static long StreamSize(InferenceRequest request, string? degraded, string? featureStatuses = null) => LenFieldSize(InferResponseField, Size(request, degraded, featureStatuses));

    /// <summary>The answer on a stream: a <c>ModelStreamInferResponse</c> holding it as <c>infer_response</c> (gRPC's prefix is Grpc.AspNetCore's).</summary>
    public static void WriteStream(IBufferWriter<byte> w, InferenceRequest request, string? degraded, string? featureStatuses = null)
    {
        WriteLenHeader(w, InferResponseField, Size(request, degraded, featureStatuses));
        Write(w, request, degraded, featureStatuses);
    }

    /// <summary>The size of <see cref="WriteStreamError"/>'s <c>ModelStreamInferResponse</c>.</summary>
    public static long StreamErrorSize(string message, string? model, string? id)
    {
        long inner = ErrorInnerSize(model, id);
        return StringFieldSize(ErrorMessageField, message) + (inner > 0 ? LenFieldSize(InferResponseField, inner) : 0);
    }

    /// <summary>An error on a stream: <c>error_message</c>, and an <c>infer_response</c> naming the model and the request's id, so the client knows which request failed.</summary>
    public static void WriteStreamError(IBufferWriter<byte> w, string message, string? model, string? id)
    {
        WriteString(w, ErrorMessageField, message);
        long inner = ErrorInnerSize(model, id);
        if (inner > 0)
        {
            WriteLenHeader(w, InferResponseField, inner);
            WriteOptional(w, ModelNameField, model);
            WriteOptional(w, IdField, id);
        }
    }

    private static long ErrorInnerSize(string? model, string? id) =>
        (model is { Length: > 0 } ? StringFieldSize(ModelNameField, model) : 0) + (id is { Length: > 0 } ? StringFieldSize(IdField, id) : 0);

    /// <summary>The <c>ModelInferResponse</c>'s size in bytes, without gRPC's prefix.</summary>
    public static long Size(InferenceRequest request, string? degraded, string? featureStatuses = null)
    {
        var config = request.Config;
        long size = StringFieldSize(ModelNameField, config.Name) + StringFieldSize(ModelVersionField, request.Version);
        if (request.Id is { Length: > 0 } id)
        {
            size += StringFieldSize(IdField, id);
        }

        if (degraded is not null)
        {
            size += DegradedSize(degraded);
        }

        if (featureStatuses is not null)
        {
            size += LenFieldSize(ParametersField, StatusesEntrySize(featureStatuses));
        }

        for (int o = 0; o < request.OutputCount; o++)
        {
            if (request.OutputRequested(o))
            {
                size += LenFieldSize(OutputsField, OutputSize(request, o)) + LenFieldSize(RawOutputContentsField, request.OutputData(o).Length);
            }
        }

        return size;
    }

    private static void Write(IBufferWriter<byte> w, InferenceRequest request, string? degraded, string? featureStatuses)
    {
        var config = request.Config;
        WriteString(w, ModelNameField, config.Name);
        WriteString(w, ModelVersionField, request.Version);
        WriteOptional(w, IdField, request.Id);
        if (degraded is not null)
        {
            WriteDegraded(w, degraded);
        }

        if (featureStatuses is not null)
        {
            // parameters: {"feature_statuses": string_param statuses}, as REST's answer has it.
            WriteLenHeader(w, ParametersField, StatusesEntrySize(featureStatuses));
            WriteBytes(w, 1, "feature_statuses"u8);
            WriteLenHeader(w, 2, StringFieldSize(3, featureStatuses));
            WriteString(w, 3, featureStatuses);
        }

        for (int o = 0; o < request.OutputCount; o++)
        {
            if (!request.OutputRequested(o))
            {
                continue;
            }

            // InferOutputTensor: name (1), datatype (2), shape (3, packed).
            var spec = config.Outputs[o];
            WriteLenHeader(w, OutputsField, OutputSize(request, o));
            WriteBytes(w, 1, spec.NameUtf8);
            WriteBytes(w, 2, spec.DataType.ProtocolNameUtf8());
            var shape = request.OutputShape(o);
            WriteLenHeader(w, 3, ShapeSize(shape));
            foreach (var d in shape)
            {
                WriteVarint(w, (ulong)d);
            }
        }

        for (int o = 0; o < request.OutputCount; o++)
        {
            if (request.OutputRequested(o))
            {
                // The one copy out: from the batch's output tensor into the response's buffers.
                WriteBytes(w, RawOutputContentsField, request.OutputData(o));
            }
        }
    }

    private static long OutputSize(InferenceRequest request, int o)
    {
        var spec = request.Config.Outputs[o];
        return LenFieldSize(1, spec.NameUtf8.Length) + LenFieldSize(2, spec.DataType.ProtocolNameUtf8().Length) + LenFieldSize(3, ShapeSize(request.OutputShape(o)));
    }

    private static long ShapeSize(ReadOnlySpan<long> shape)
    {
        long size = 0;
        foreach (var d in shape)
        {
            size += VarintSize((ulong)d);
        }

        return size;
    }

    private static void WriteOptional(IBufferWriter<byte> w, int field, string? value)
    {
        if (value is { Length: > 0 })
        {
            WriteString(w, field, value);
        }
    }

    // parameters: {"degraded": bool_param true, "degraded_reason": string_param reason}, as REST's answer has them.
    private static long DegradedSize(string reason) =>
        LenFieldSize(ParametersField, DegradedEntrySize()) + LenFieldSize(ParametersField, ReasonEntrySize(reason));

    private static long DegradedEntrySize() => LenFieldSize(1, "degraded"u8.Length) + LenFieldSize(2, 2);

    private static long StatusesEntrySize(string statuses) => LenFieldSize(1, "feature_statuses"u8.Length) + LenFieldSize(2, StringFieldSize(3, statuses));

    private static long ReasonEntrySize(string reason) => LenFieldSize(1, "degraded_reason"u8.Length) + LenFieldSize(2, StringFieldSize(3, reason));

    private static void WriteDegraded(IBufferWriter<byte> w, string reason)
    {
        WriteLenHeader(w, ParametersField, DegradedEntrySize());
        WriteBytes(w, 1, "degraded"u8);
        // InferParameter { bool_param (1) = true }
        WriteBytes(w, 2, [1 << 3, 1]);
        WriteLenHeader(w, ParametersField, ReasonEntrySize(reason));
        WriteBytes(w, 1, "degraded_reason"u8);
        WriteLenHeader(w, 2, StringFieldSize(3, reason));
        WriteString(w, 3, reason);
    }
}
