using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Features.Cache;

/// <summary>A (view, entity) row's key in the near cache: a struct compared by value, so a lookup allocates nothing.</summary>
internal readonly struct CacheKey(FeatureView view, EntityKey entity) : IEquatable<CacheKey>
{
    public FeatureView View { get; } = view;

    public EntityKey Entity { get; } = entity;

    public bool Equals(CacheKey other) => ReferenceEquals(View, other.View) && Entity.Equals(other.Entity);

    public override bool Equals(object? obj) => obj is CacheKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(View.Index, Entity.GetHashCode());
}
