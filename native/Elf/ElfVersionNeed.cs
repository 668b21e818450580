using System.Buffers.Binary;
using System.Text;

namespace LowLatency.Native.Elf;

/// <summary>One entry of an ELF object's version needs (<c>.gnu.version_r</c>).</summary>
/// <param name="File">The library the version is needed from (its soname).</param>
/// <param name="Name">The version name, for example <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Flags">The <c>vna_flags</c> field; <see cref="ElfVersionInfo.WeakFlag"/> marks a weak need.</param>
/// <param name="Index">The <c>vna_other</c> field: the index that <c>.gnu.version</c> uses for this version.</param>
/// <param name="FlagsOffset">The file offset of the 16-bit <c>vna_flags</c> field, where a patch writes.</param>
public readonly record struct ElfVersionNeed(string File, string Name, ushort Flags, ushort Index, long FlagsOffset)
{
    public bool IsWeak => (Flags & ElfVersionInfo.WeakFlag) != 0;
}
