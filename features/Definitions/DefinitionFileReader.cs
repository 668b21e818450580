using System.Text.Json;

namespace LowLatency.Features.Definitions;

/// <summary>
/// Reads one definition file: <c>format_version</c>, then any of <c>entities</c>,
/// <c>push_sources</c>, <c>feature_views</c> and <c>feature_services</c>, with Feast's field names
/// where Feast has one. What refers to other objects (a view's entity, store and source, a
/// service's features) is checked once every file is read (<see cref="FeatureRepositoryReader"/>).
/// </summary>
internal sealed class DefinitionFileReader(string file) : StrictJsonReader(file)
{
    /// <summary>A value's elements at most, and a row's bytes at most: rows are read whole on every request.</summary>
    public const int MaxElements = 1 << 16;
    public const int MaxRowBytes = 1 << 20;

    /// <summary>Ten years: a longer max age is no limit, which 0 says.</summary>
    public const long MaxTtlSeconds = 315_360_000;

    /// <summary>A day: the longest window, gap, lateness or watermark delay a stream view may state.</summary>
    public const long MaxStreamMs = 86_400_000;

    /// <summary>Partitions of one stream source at most.</summary>
    public const int MaxPartitions = 1024;

    private static readonly HashSet<string> TopLevel = ["format_version", "description", "entities", "push_sources", "stream_sources", "feature_views", "feature_services"];
    private static readonly HashSet<string> StreamSourceFields = ["name", "stream", "partitions", "key_field", "timestamp_field", "watermark_delay_threshold_ms", "idle_timeout_ms", "dead_letter_stream", "description", "tags"];
    private static readonly HashSet<string> StreamFields = ["source", "window", "allowed_lateness_ms"];
    private static readonly HashSet<string> WindowFields = ["type", "size_ms", "slide_ms", "gap_ms"];
    private static readonly HashSet<string> AggregationFields = ["function", "field", "where"];
    private static readonly HashSet<string> WhereFields = ["field", "equals"];
    private static readonly HashSet<string> DerivedFields = ["ratio"];
    private static readonly HashSet<string> EntityFields = ["name", "join_keys", "value_type", "description", "tags"];
    private static readonly HashSet<string> PushSourceFields = ["name", "timestamp_field", "description", "tags"];
    private static readonly HashSet<string> ViewFields = ["name", "entities", "schema", "ttl_seconds", "online_store", "source", "stream", "description", "tags"];
    private static readonly HashSet<string> FieldFields = ["name", "dtype", "shape", "default", "aggregation", "derived", "description", "tags"];
    private static readonly HashSet<string> ServiceFields = ["name", "features", "description", "tags"];

    public DefinitionFile Read(JsonElement root)
    {
        Fields(root, string.Empty, TopLevel);
        FormatVersion(root);
        Description(root, string.Empty);
        var result = new DefinitionFile();
        foreach (var (e, path) in Array(root, "entities", string.Empty, required: false))
        {
            result.Entities.Add((Entity(e, path), path));
        }

        foreach (var (e, path) in Array(root, "push_sources", string.Empty, required: false))
        {
            result.PushSources.Add((PushSource(e, path), path));
        }

        foreach (var (e, path) in Array(root, "stream_sources", string.Empty, required: false))
        {
            result.StreamSources.Add((StreamSource(e, path), path));
        }

        foreach (var (e, path) in Array(root, "feature_views", string.Empty, required: false))
        {
            result.Views.Add(View(e, path));
        }

        foreach (var (e, path) in Array(root, "feature_services", string.Empty, required: false))
        {
            result.Services.Add(Service(e, path));
        }

        return result;
    }

    private EntityDefinition Entity(JsonElement e, string path)
    {
        Fields(e, path, EntityFields);
        string name = RequiredName(e, "name", path);
        var keys = Array(e, "join_keys", path, required: true);
        if (keys.Count != 1)
        {
            throw Error(At(path, "join_keys"), $"names {keys.Count} join keys; an entity has exactly one here (compound keys are not supported)");
        }

        Expect(keys[0].Element, JsonValueKind.String, keys[0].Path);
        string joinKey = CheckName(keys[0].Element.GetString()!, keys[0].Path);
        string type = RequiredString(e, "value_type", path);
        var valueType = type switch
        {
            "INT64" => EntityValueType.Int64,
            "STRING" => EntityValueType.String,
            _ => throw Error(At(path, "value_type"), $"{Quote(type)} is not supported; use \"INT64\" or \"STRING\""),
        };
        return new EntityDefinition { Name = name, JoinKey = joinKey, ValueType = valueType, Description = Description(e, path), Tags = Tags(e, path), File = File };
    }

    private PushSource PushSource(JsonElement e, string path)
    {
        Fields(e, path, PushSourceFields);
        string name = RequiredName(e, "name", path);
        string timestamp = OptionalString(e, "timestamp_field", At(path, "timestamp_field")) is { } t ? CheckName(t, At(path, "timestamp_field")) : "event_timestamp";
        return new PushSource { Name = name, TimestampField = timestamp, Description = Description(e, path), Tags = Tags(e, path), File = File };
    }

    private ViewDraft View(JsonElement e, string path)
    {
        Fields(e, path, ViewFields);
        string name = RequiredName(e, "name", path);
        var entities = Array(e, "entities", path, required: true);
        if (entities.Count != 1)
        {
            throw Error(At(path, "entities"), $"names {entities.Count} entities; a view has exactly one here");
        }

        Expect(entities[0].Element, JsonValueKind.String, entities[0].Path);
        string entity = CheckName(entities[0].Element.GetString()!, entities[0].Path);
        long ttl = Integer(e, "ttl_seconds", path, 0, 0, MaxTtlSeconds);
        string store = OptionalString(e, "online_store", At(path, "online_store")) ?? FeatureStoreFileReader.DefaultStore;
        string? source = OptionalString(e, "source", At(path, "source"));
        var stream = e.TryGetProperty("stream", out var streamElement) ? Stream(streamElement, At(path, "stream")) : null;
        var schema = Array(e, "schema", path, required: true);
        if (schema.Count == 0)
        {
            throw Error(At(path, "schema"), "must name at least one feature");
        }

        var features = new List<FeatureDefinition>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int offset = 0;
        foreach (var (f, fieldPath) in schema)
        {
            var feature = Field(f, fieldPath, offset);
            if (!names.Add(feature.Name))
            {
                throw Error(At(fieldPath, "name"), $"{Quote(feature.Name)} appears twice in the view");
            }

            offset += feature.ByteSize;
            if (offset > MaxRowBytes)
            {
                throw Error(fieldPath, $"the view's row would exceed {MaxRowBytes} bytes");
            }

            features.Add(feature);
        }

        return new ViewDraft(File, path, name, entity, ttl, store, source, stream, features, Description(e, path), Tags(e, path));
    }

    private FeatureDefinition Field(JsonElement e, string path, int offset)
    {
        Fields(e, path, FieldFields);
        string name = RequiredName(e, "name", path);
        string dtype = RequiredString(e, "dtype", path);
        if (!FeatureDataTypes.TryParse(dtype, out var type))
        {
            throw Error(At(path, "dtype"), $"{Quote(dtype)} is not supported; use one of {FeatureDataTypes.AllNames}");
        }

        var shape = new List<int>();
        long elements = 1;
        foreach (var (d, dimPath) in Array(e, "shape", path, required: false))
        {
            int dim = (int)IntegerValue(d, dimPath, 1, MaxElements);
            elements *= dim;
            if (elements > MaxElements)
            {
                throw Error(At(path, "shape"), $"holds more than {MaxElements} elements");
            }

            shape.Add(dim);
        }

        int size = type.ElementSize();
        var defaults = new byte[(int)elements * size];
        if (e.TryGetProperty("default", out var d0))
        {
            Default(d0, type, (int)elements, defaults, At(path, "default"));
        }

        return new FeatureDefinition
        {
            Name = name,
            DataType = type,
            Shape = shape,
            ElementCount = (int)elements,
            Offset = offset,
            Default = defaults,
            Aggregation = e.TryGetProperty("aggregation", out var a) ? Aggregation(a, At(path, "aggregation")) : null,
            Derived = e.TryGetProperty("derived", out var r) ? Derived(r, At(path, "derived")) : null,
            Description = Description(e, path),
            Tags = Tags(e, path),
        };
    }

    private StreamSource StreamSource(JsonElement e, string path)
    {
        Fields(e, path, StreamSourceFields);
        string name = RequiredName(e, "name", path);
        string stream = OptionalString(e, "stream", At(path, "stream")) ?? name;
        if (stream.Length == 0 || stream.Length > MaxNameLength || stream.Contains('{', StringComparison.Ordinal) || stream.Contains('}', StringComparison.Ordinal))
        {
            throw Error(At(path, "stream"), $"{Quote(stream)} is not a stream name: 1 to {MaxNameLength} characters, no braces");
        }

        string keyField = CheckName(RequiredString(e, "key_field", path), At(path, "key_field"));
        string timestamp = OptionalString(e, "timestamp_field", At(path, "timestamp_field")) is { } t ? CheckName(t, At(path, "timestamp_field")) : "event_timestamp";
        if (timestamp == keyField)
        {
            throw Error(At(path, "timestamp_field"), $"{Quote(timestamp)} is also the key field");
        }

        return new StreamSource
        {
            Name = name,
            Stream = stream,
            Partitions = (int)Integer(e, "partitions", path, 1, 1, MaxPartitions),
            KeyField = keyField,
            TimestampField = timestamp,
            WatermarkDelayMs = Integer(e, "watermark_delay_threshold_ms", path, 0, 0, MaxStreamMs),
            IdleTimeoutMs = Integer(e, "idle_timeout_ms", path, 10_000, 1, MaxStreamMs),
            DeadLetterStream = OptionalString(e, "dead_letter_stream", At(path, "dead_letter_stream")) ?? stream + ":dead",
            Description = Description(e, path),
            Tags = Tags(e, path),
            File = File,
        };
    }

    private StreamDraft Stream(JsonElement e, string path)
    {
        Fields(e, path, StreamFields);
        string source = RequiredName(e, "source", path);
        string at = At(path, "window");
        if (!e.TryGetProperty("window", out var w))
        {
            throw Error(at, "is required");
        }

        Fields(w, at, WindowFields);
        string type = RequiredString(w, "type", at);
        StreamWindow window;
        switch (type)
        {
            case "tumbling":
                NotWith(w, at, "slide_ms", "gap_ms");
                long size = RequiredInteger(w, "size_ms", at, 1, MaxStreamMs);
                window = new StreamWindow(StreamWindowKind.Tumbling, size, size, 0);
                break;
            case "sliding":
                NotWith(w, at, "gap_ms");
                long slidingSize = RequiredInteger(w, "size_ms", at, 1, MaxStreamMs);
                long slide = RequiredInteger(w, "slide_ms", at, 1, slidingSize);
                if (slidingSize % slide != 0 || slidingSize / slide > 1000)
                {
                    throw Error(At(at, "slide_ms"), $"must divide size_ms into at most 1000 slides");
                }

                window = new StreamWindow(StreamWindowKind.Sliding, slidingSize, slide, 0);
                break;
            case "session":
                NotWith(w, at, "size_ms", "slide_ms");
                window = new StreamWindow(StreamWindowKind.Session, 0, 0, RequiredInteger(w, "gap_ms", at, 1, MaxStreamMs));
                break;
            default:
                throw Error(At(at, "type"), $"{Quote(type)} is not supported; use \"tumbling\", \"sliding\" or \"session\"");
        }

        return new StreamDraft(path, source, window, Integer(e, "allowed_lateness_ms", path, 0, 0, MaxStreamMs));
    }

    private void NotWith(JsonElement e, string path, params string[] keys)
    {
        foreach (string key in keys)
        {
            if (e.TryGetProperty(key, out _))
            {
                throw Error(At(path, key), "does not apply to this type of window");
            }
        }
    }

    private long RequiredInteger(JsonElement e, string key, string path, long min, long max) =>
        e.TryGetProperty(key, out var v) ? IntegerValue(v, At(path, key), min, max) : throw Error(At(path, key), "is required");

    private FeatureAggregation Aggregation(JsonElement e, string path)
    {
        Fields(e, path, AggregationFields);
        string function = RequiredString(e, "function", path);
        var f = function switch
        {
            "count" => AggregationFunction.Count,
            "sum" => AggregationFunction.Sum,
            "min" => AggregationFunction.Min,
            "max" => AggregationFunction.Max,
            "mean" => AggregationFunction.Mean,
            "distinct_count" => AggregationFunction.DistinctCount,
            "last" => AggregationFunction.Last,
            _ => throw Error(At(path, "function"), $"{Quote(function)} is not supported; use count, sum, min, max, mean, distinct_count or last"),
        };
        string? field = OptionalString(e, "field", At(path, "field")) is { } name ? CheckName(name, At(path, "field")) : null;
        if (f == AggregationFunction.Count && field is not null)
        {
            throw Error(At(path, "field"), "does not apply to count: it counts events (use where to count some)");
        }

        if (f != AggregationFunction.Count && field is null)
        {
            throw Error(At(path, "field"), $"is required for {function}");
        }

        EventFilter? where = null;
        if (e.TryGetProperty("where", out var w))
        {
            string at = At(path, "where");
            Fields(w, at, WhereFields);
            where = new EventFilter(CheckName(RequiredString(w, "field", at), At(at, "field")), RequiredString(w, "equals", at));
        }

        return new FeatureAggregation(f, field, where);
    }

    private DerivedFeature Derived(JsonElement e, string path)
    {
        Fields(e, path, DerivedFields);
        var parts = Array(e, "ratio", path, required: true);
        if (parts.Count != 2)
        {
            throw Error(At(path, "ratio"), "names the numerator and the denominator: two features");
        }

        Expect(parts[0].Element, JsonValueKind.String, parts[0].Path);
        Expect(parts[1].Element, JsonValueKind.String, parts[1].Path);
        return new DerivedFeature(parts[0].Element.GetString()!, parts[1].Element.GetString()!);
    }

    // A default is one element for every position, or every element (flat or nested, row-major).
    private void Default(JsonElement value, FeatureDataType type, int elements, byte[] dst, string path)
    {
        int size = type.ElementSize();
        if (value.ValueKind != JsonValueKind.Array)
        {
            Element(value, type, dst.AsSpan(0, size), path);
            for (int i = 1; i < elements; i++)
            {
                dst.AsSpan(0, size).CopyTo(dst.AsSpan(i * size));
            }

            return;
        }

        var flat = new List<JsonElement>();
        Flatten(value, flat);
        if (flat.Count != elements)
        {
            throw Error(path, $"holds {flat.Count} elements; the shape has {elements}");
        }

        for (int i = 0; i < elements; i++)
        {
            Element(flat[i], type, dst.AsSpan(i * size, size), $"{path}[{i}]");
        }
    }

    private static void Flatten(JsonElement value, List<JsonElement> flat)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            flat.Add(value);
            return;
        }

        foreach (var item in value.EnumerateArray())
        {
            Flatten(item, flat);
        }
    }

    private void Element(JsonElement value, FeatureDataType type, Span<byte> dst, string path)
    {
        bool ok = value.ValueKind switch
        {
            JsonValueKind.True or JsonValueKind.False => FeatureDataTypes.TryWrite(value.ValueKind == JsonValueKind.True, type, dst),
            JsonValueKind.Number when value.TryGetInt64(out long l) => FeatureDataTypes.TryWrite(l, type, dst),
            JsonValueKind.Number => FeatureDataTypes.TryWrite(value.GetDouble(), type, dst),
            _ => false,
        };
        if (!ok)
        {
            throw Error(path, $"{Quote(value.GetRawText())} is not a {type.Name()} value");
        }
    }

    private ServiceDraft Service(JsonElement e, string path)
    {
        Fields(e, path, ServiceFields);
        string name = RequiredName(e, "name", path);
        var refs = new List<(string, string)>();
        foreach (var (r, refPath) in Array(e, "features", path, required: true))
        {
            Expect(r, JsonValueKind.String, refPath);
            refs.Add((r.GetString()!, refPath));
        }

        if (refs.Count == 0)
        {
            throw Error(At(path, "features"), "must name at least one feature");
        }

        return new ServiceDraft(File, path, name, refs, Description(e, path), Tags(e, path));
    }
}
