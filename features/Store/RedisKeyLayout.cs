using System.Buffers.Text;
using System.Text;
using LowLatency.Features.Definitions;

namespace LowLatency.Features.Store;

/// <summary>
/// The Redis key of a (view, entity) row: <c>&lt;project&gt;:&lt;view&gt;:{&lt;join key&gt;=&lt;id&gt;}</c>,
/// for instance <c>ranking:user_activity:{user_id=42}</c>. The id is an INT64 in decimal or a
/// STRING's UTF-8 bytes. The braces are a Redis Cluster hash tag: a cluster places a key by the
/// text between the first '{' and the next '}', which is the same for every view of one entity, so
/// all of an entity's rows live on one slot (one node) and one MGET can read them. Project, view and
/// join key are names (letters, digits, '_'), so the tag always starts at the id's own brace; an id
/// holding '}' ends the tag early, but it ends at the same place for every view of that id.
/// </summary>
public sealed class RedisKeyLayout
{
    public const int MaxStringIdBytes = 1024;

    private readonly IReadOnlyList<FeatureView> _views;
    private readonly byte[][] _prefixes;

    public RedisKeyLayout(FeatureRepository repository)
    {
        _views = repository.FeatureViews;
        _prefixes = new byte[_views.Count][];
        foreach (var view in _views)
        {
            _prefixes[view.Index] = Encoding.UTF8.GetBytes($"{repository.Project}:{view.Name}:{{{view.Entity.JoinKey}=");
        }
    }

    public byte[] Key(FeatureView view, EntityKey entity)
    {
        if ((uint)view.Index >= (uint)_views.Count || !ReferenceEquals(_views[view.Index], view))
        {
            throw new ArgumentException($"the view \"{view.Name}\" is not one of this repository's", nameof(view));
        }

        if (entity.IsString != (view.Entity.ValueType == EntityValueType.String))
        {
            throw new ArgumentException($"the entity \"{view.Entity.Name}\" has {(entity.IsString ? "INT64" : "STRING")} ids", nameof(entity));
        }

        byte[] prefix = _prefixes[view.Index];
        byte[] key;
        if (entity.String is { } id)
        {
            int n = Encoding.UTF8.GetByteCount(id);
            if (n > MaxStringIdBytes)
            {
                throw new ArgumentException($"an id of \"{view.Entity.Name}\" is {n} bytes; {MaxStringIdBytes} at most", nameof(entity));
            }

            key = new byte[prefix.Length + n + 1];
            Encoding.UTF8.GetBytes(id, key.AsSpan(prefix.Length));
        }
        else
        {
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(entity.Int64, digits, out int n);
            key = new byte[prefix.Length + n + 1];
            digits[..n].CopyTo(key.AsSpan(prefix.Length));
        }

        prefix.CopyTo(key, 0);
        key[^1] = (byte)'}';
        return key;
    }
}
