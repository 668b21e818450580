namespace LowLatency.Client.Wire;

/// <summary>
/// Reads a MessagePack answer in place: the result records where the model name, version, id and
/// each output's name and bytes lie in the received buffer, and the shapes in a pooled table. No
/// object graph, no string, no copy.
/// </summary>
internal static class MsgPackResponseDecoder
{
    public static void Decode(InferResult result, int length)
    {
        var r = new MsgPackReader(result.Body.AsSpan(0, length));
        if (!r.IsMap)
        {
            throw new MalformedAnswerException("the MessagePack answer is not a map");
        }

        int fields = r.ReadMapHeader();
        for (int f = 0; f < fields; f++)
        {
            var key = r.ReadKey();
            if (key.SequenceEqual("model_name"u8))
            {
                result.ModelNameSlice = r.ReadStringSlice();
            }
            else if (key.SequenceEqual("model_version"u8))
            {
                result.ModelVersionSlice = r.ReadStringSlice();
            }
            else if (key.SequenceEqual("id"u8))
            {
                result.IdSlice = r.TryReadNil() ? Slice.None : r.ReadStringSlice();
            }
            else if (key.SequenceEqual("parameters"u8))
            {
                ReadParameters(ref r, result);
            }
            else if (key.SequenceEqual("outputs"u8))
            {
                int count = r.ReadArrayHeader();
                for (int i = 0; i < count; i++)
                {
                    ReadOutput(ref r, result);
                }
            }
            else
            {
                r.Skip();
            }
        }
    }

    private static void ReadParameters(ref MsgPackReader r, InferResult result)
    {
        int count = r.ReadMapHeader();
        for (int i = 0; i < count; i++)
        {
            var key = r.ReadKey();
            if (key.SequenceEqual("degraded"u8) && r.Peek() is 0xc2 or 0xc3)
            {
                result.IsDegraded = r.ReadBool();
            }
            else if (key.SequenceEqual("degraded_reason"u8) && r.IsString)
            {
                result.DegradedReasonSlice = r.ReadStringSlice();
            }
            else if (key.SequenceEqual("feature_statuses"u8) && r.IsString)
            {
                result.FeatureStatusesSlice = r.ReadStringSlice();
            }
            else
            {
                r.Skip();
            }
        }
    }

    private static void ReadOutput(ref MsgPackReader r, InferResult result)
    {
        ref var entry = ref result.AddOutput();
        scoped ReadOnlySpan<byte> datatype = default;
        int fields = r.ReadMapHeader();
        for (int f = 0; f < fields; f++)
        {
            var key = r.ReadKey();
            if (key.SequenceEqual("name"u8))
            {
                entry.Name = r.ReadStringSlice();
            }
            else if (key.SequenceEqual("datatype"u8))
            {
                datatype = r.ReadString();
            }
            else if (key.SequenceEqual("shape"u8))
            {
                int rank = r.ReadArrayHeader();
                for (int d = 0; d < rank; d++)
                {
                    result.AddDim(r.ReadInt64());
                }
            }
            else if (key.SequenceEqual("data"u8))
            {
                entry.Data = r.ReadBinSlice();
            }
            else
            {
                r.Skip();
            }
        }

        OutputCheck.Complete(result, ref entry, datatype);
    }
}
