using System.Text.Json;

namespace LowLatency.Client.Wire;

/// <summary>
/// Reads an answer in Triton's binary tensor form in place: the JSON header with
/// <see cref="Utf8JsonReader"/> (no document, no strings), then each output's bytes where they lie
/// after it, in output order. Names the JSON escaped are unescaped into the result's side buffer.
/// </summary>
internal static class JsonBinaryResponseDecoder
{
    public static void Decode(InferResult result, int length, int jsonLength)
    {
        if (jsonLength < 0 || jsonLength > length)
        {
            throw new MalformedAnswerException($"Inference-Header-Content-Length {jsonLength} is outside the answer's {length} bytes");
        }

        var body = result.Body.AsSpan(0, length);
        var reader = new Utf8JsonReader(body[..jsonLength]);
        try
        {
            ReadDocument(ref reader, result);
        }
        catch (JsonException e)
        {
            throw new MalformedAnswerException("the answer's JSON is malformed: " + e.Message);
        }

        // The tensors follow the JSON in output order.
        int offset = jsonLength;
        for (int i = 0; i < result.OutputCount; i++)
        {
            ref var entry = ref result.EntryForUpdate(i);
            if (entry.Data.Length > length - offset)
            {
                throw new MalformedAnswerException($"the answer's binary outputs need more than its {length - jsonLength} bytes after the JSON");
            }

            entry.Data = new Slice(offset, entry.Data.Length);
            offset += entry.Data.Length;
            if (entry.Datatype == TensorDatatype.Bytes)
            {
                OutputCheck.Filled(result, in entry);
            }
        }

        if (offset != length)
        {
            throw new MalformedAnswerException($"{length - offset} bytes after the answer's binary outputs belong to none of them");
        }
    }

    private static void ReadDocument(ref Utf8JsonReader reader, InferResult result)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model_name"u8))
            {
                result.ModelNameSlice = StringValue(ref reader, result);
            }
            else if (reader.ValueTextEquals("model_version"u8))
            {
                result.ModelVersionSlice = StringValue(ref reader, result);
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                result.IdSlice = StringValue(ref reader, result);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                ReadParameters(ref reader, result);
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                Expect(ref reader, JsonTokenType.StartArray);
                while (Next(ref reader) == JsonTokenType.StartObject)
                {
                    ReadOutput(ref reader, result);
                }
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }
    }

    private static void ReadParameters(ref Utf8JsonReader reader, InferResult result)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("degraded"u8))
            {
                result.IsDegraded = Next(ref reader) == JsonTokenType.True;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("degraded_reason"u8))
            {
                result.DegradedReasonSlice = StringValue(ref reader, result);
            }
            else if (reader.ValueTextEquals("feature_statuses"u8))
            {
                result.FeatureStatusesSlice = StringValue(ref reader, result);
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }
    }

    private static void ReadOutput(ref Utf8JsonReader reader, InferResult result)
    {
        ref var entry = ref result.AddOutput();
        Span<byte> datatype = stackalloc byte[16];
        int datatypeLength = 0;
        int binarySize = -1;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                entry.Name = StringValue(ref reader, result);
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                Expect(ref reader, JsonTokenType.String);
                datatypeLength = reader.ValueSpan.Length <= datatype.Length ? reader.CopyString(datatype) : 0;
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                Expect(ref reader, JsonTokenType.StartArray);
                JsonTokenType token;
                while ((token = Next(ref reader)) == JsonTokenType.Number)
                {
                    result.AddDim(reader.GetInt64());
                }

                if (token != JsonTokenType.EndArray)
                {
                    throw new MalformedAnswerException($"an output's shape holds {token}, not a number");
                }
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                Expect(ref reader, JsonTokenType.StartObject);
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("binary_data_size"u8))
                    {
                        Expect(ref reader, JsonTokenType.Number);
                        binarySize = reader.TryGetInt32(out int size) && size >= 0 ? size : throw new MalformedAnswerException("binary_data_size is not a size");
                    }
                    else
                    {
                        Next(ref reader);
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                // Asked for every output as binary; a server that sends JSON numbers anyway is not one this client reads.
                throw new MalformedAnswerException("an output came as JSON data, not binary: the server ignored binary_data_output");
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        // Its bytes' offset is set once every output's size is known; the size is checked now.
        entry.Data = binarySize >= 0 ? new Slice(0, binarySize) : Slice.None;
        OutputCheck.Complete(result, ref entry, datatype[..datatypeLength], placed: false);
    }

    private static Slice StringValue(ref Utf8JsonReader reader, InferResult result)
    {
        var token = Next(ref reader);
        if (token == JsonTokenType.Null)
        {
            return Slice.None;
        }

        if (token != JsonTokenType.String)
        {
            throw new MalformedAnswerException($"expected a string in the answer's JSON, found {token}");
        }

        if (!reader.ValueIsEscaped)
        {
            // TokenStartIndex is the opening quote.
            return new Slice(checked((int)reader.TokenStartIndex + 1), reader.ValueSpan.Length);
        }

        int written = reader.CopyString(result.SideSpan(reader.ValueSpan.Length));
        return result.CommitSide(written);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new MalformedAnswerException("the answer's JSON ends early");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        var token = Next(ref reader);
        if (token != type)
        {
            throw new MalformedAnswerException($"expected {type} in the answer's JSON, found {token}");
        }
    }
}
