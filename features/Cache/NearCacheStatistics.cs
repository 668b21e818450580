namespace LowLatency.Features.Cache;

/// <summary>A near cache's counts since it was made, and what it holds now.</summary>
public readonly record struct NearCacheStatistics(long Hits, long Misses, long Coalesced, long Fetches, long FetchedRows, long Evictions, long StaleServed, long Bytes, int Entries);
