using System.Buffers.Binary;

namespace LowLatency.Native.Elf;

/// <summary>
/// Decides whether a shared object's version needs from one library are met by the versions that
/// library defines, and, where the only unmet needs are safe to weaken, produces the patched image.
/// </summary>
/// <remarks>
/// A version need may be weakened only when every undefined symbol bound to it is one the program
/// never calls. GCC 13 emits an undefined reference to <c>std::ios_base_library_init</c> (version
/// GLIBCXX_3.4.32) in every object that includes &lt;iostream&gt;, only to force the library's iostream
/// initialisation; it is never relocated. With the need weak, glibc's loader accepts an older
/// libstdc++ (Debian 12's stops at GLIBCXX_3.4.30). Any other missing version is a real dependency and
/// is reported, not patched.
/// </remarks>
public static class VersionNeedPatch
{
    /// <summary>Undefined symbols known to be referenced but never relocated.</summary>
    public static readonly IReadOnlySet<string> NeverRelocated = new HashSet<string>(StringComparer.Ordinal)
    {
        "_ZSt21ios_base_library_initv",
    };

    public static VersionNeedPlan Plan(ElfVersionInfo target, string library, IReadOnlySet<string> providedVersions)
    {
        var weaken = new List<ElfVersionNeed>();
        var blocking = new List<string>();
        foreach (var need in target.Needs)
        {
            if (need.File != library || need.IsWeak || providedVersions.Contains(need.Name))
            {
                continue;
            }

            var symbols = target.UndefinedSymbolsBoundTo(need.Index);
            bool safe = true;
            foreach (var s in symbols)
            {
                safe &= NeverRelocated.Contains(s);
            }

            if (safe)
            {
                weaken.Add(need);
            }
            else
            {
                blocking.Add($"{need.Name} (used by {string.Join(", ", symbols)})");
            }
        }

        return new VersionNeedPlan(weaken, blocking);
    }

    /// <summary>Sets VER_FLG_WEAK on each planned need, in place; nothing else in the image changes.</summary>
    public static void Apply(Span<byte> image, VersionNeedPlan plan)
    {
        foreach (var need in plan.Weaken)
        {
            var field = image.Slice(checked((int)need.FlagsOffset), 2);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(field);
            BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)(flags | ElfVersionInfo.WeakFlag));
        }
    }
}
