using System.Buffers.Binary;

namespace LowLatency.Native.Elf;

/// <summary>The outcome of <see cref="VersionNeedPatch.Plan"/>.</summary>
/// <param name="Weaken">Unmet needs that are safe to mark weak.</param>
/// <param name="Blocking">Unmet needs that are real dependencies; the object cannot load here.</param>
public sealed record VersionNeedPlan(IReadOnlyList<ElfVersionNeed> Weaken, IReadOnlyList<string> Blocking)
{
    public bool NothingToDo => Weaken.Count == 0 && Blocking.Count == 0;
}
