using System.Buffers.Binary;
using System.Text;

namespace LowLatency.Native.Elf;

/// <summary>
/// Reads the symbol-versioning sections of a 64-bit little-endian ELF shared object: what versions it
/// needs from which library, what versions it defines, and which undefined symbols bind to each version.
/// Only what the libstdc++ check needs; no relocation or program-header handling.
/// </summary>
public sealed class ElfVersionInfo
{
    /// <summary>VER_FLG_WEAK: the dynamic linker does not fail when a weak version need is missing.</summary>
    public const ushort WeakFlag = 0x2;

    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;

    private readonly Dictionary<ushort, List<string>> _undefinedSymbolsByVersion;

    private ElfVersionInfo(List<ElfVersionNeed> needs, List<string> definitions, Dictionary<ushort, List<string>> undefinedByVersion)
    {
        Needs = needs;
        Definitions = definitions;
        _undefinedSymbolsByVersion = undefinedByVersion;
    }

    public IReadOnlyList<ElfVersionNeed> Needs { get; }

    public IReadOnlyList<string> Definitions { get; }

    /// <summary>Undefined dynamic symbols whose version index is <paramref name="versionIndex"/>.</summary>
    public IReadOnlyList<string> UndefinedSymbolsBoundTo(ushort versionIndex) =>
        _undefinedSymbolsByVersion.TryGetValue(versionIndex, out var list) ? list : [];

    public static ElfVersionInfo Read(string path) => Read(File.ReadAllBytes(path), path);

    public static ElfVersionInfo Read(ReadOnlySpan<byte> image, string nameForErrors = "image")
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            throw new InvalidDataException($"{nameForErrors}: not an ELF file");
        }

        if (image[4] != 2 || image[5] != 1)
        {
            throw new InvalidDataException($"{nameForErrors}: only 64-bit little-endian ELF is supported");
        }

        long shoff = checked((long)U64(image, 0x28));
        int shentsize = U16(image, 0x3A);
        int shnum = U16(image, 0x3C);
        if (shentsize < 64 || shoff <= 0 || shoff + ((long)shnum * shentsize) > image.Length)
        {
            throw new InvalidDataException($"{nameForErrors}: section header table out of bounds");
        }

        var sections = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int h = checked((int)(shoff + ((long)i * shentsize)));
            sections[i] = new Section(
                Type: U32(image, h + 4),
                Offset: checked((long)U64(image, h + 24)),
                Size: checked((long)U64(image, h + 32)),
                Link: U32(image, h + 40),
                Info: U32(image, h + 44),
                EntSize: checked((long)U64(image, h + 56)));
            if (sections[i].Type != 8 /* SHT_NOBITS */ && sections[i].Offset + sections[i].Size > image.Length)
            {
                throw new InvalidDataException($"{nameForErrors}: section {i} out of bounds");
            }
        }

        var needs = new List<ElfVersionNeed>();
        var definitions = new List<string>();
        var undefined = new Dictionary<ushort, List<string>>();
        int dynsymIndex = -1, versymIndex = -1;

        for (int i = 0; i < sections.Length; i++)
        {
            var s = sections[i];
            switch (s.Type)
            {
                case ShtGnuVerneed:
                    ReadNeeds(image, s, StringTable(sections, s.Link, nameForErrors), needs);
                    break;
                case ShtGnuVerdef:
                    ReadDefinitions(image, s, StringTable(sections, s.Link, nameForErrors), definitions);
                    break;
                case ShtDynsym:
                    dynsymIndex = i;
                    break;
                case ShtGnuVersym:
                    versymIndex = i;
                    break;
                default:
                    break;
            }
        }

        if (dynsymIndex >= 0 && versymIndex >= 0)
        {
            var dynsym = sections[dynsymIndex];
            var versym = sections[versymIndex];
            var strtab = StringTable(sections, dynsym.Link, nameForErrors);
            long count = Math.Min(dynsym.Size / Math.Max(24, dynsym.EntSize), versym.Size / 2);
            for (long k = 1; k < count; k++)
            {
                int e = checked((int)(dynsym.Offset + (k * 24)));
                ushort shndx = U16(image, e + 6);
                if (shndx != 0)
                {
                    continue;
                }

                ushort version = (ushort)(U16(image, checked((int)(versym.Offset + (k * 2)))) & 0x7fff);
                if (version < 2)
                {
                    continue;
                }

                if (!undefined.TryGetValue(version, out var list))
                {
                    undefined[version] = list = [];
                }

                list.Add(CString(image, strtab, U32(image, e)));
            }
        }

        return new ElfVersionInfo(needs, definitions, undefined);
    }

    private static void ReadNeeds(ReadOnlySpan<byte> image, Section s, Section strtab, List<ElfVersionNeed> needs)
    {
        long at = s.Offset;
        for (uint n = 0; n < s.Info; n++)
        {
            int vn = checked((int)at);
            ushort cnt = U16(image, vn + 2);
            string file = CString(image, strtab, U32(image, vn + 4));
            long aux = at + U32(image, vn + 8);
            for (int a = 0; a < cnt; a++)
            {
                int va = checked((int)aux);
                needs.Add(new ElfVersionNeed(file, CString(image, strtab, U32(image, va + 8)), U16(image, va + 4), U16(image, va + 6), va + 4));
                uint next = U32(image, va + 12);
                if (next == 0)
                {
                    break;
                }

                aux += next;
            }

            uint vnNext = U32(image, vn + 12);
            if (vnNext == 0)
            {
                break;
            }

            at += vnNext;
        }
    }

    private static void ReadDefinitions(ReadOnlySpan<byte> image, Section s, Section strtab, List<string> definitions)
    {
        long at = s.Offset;
        for (uint n = 0; n < s.Info; n++)
        {
            int vd = checked((int)at);
            ushort cnt = U16(image, vd + 6);
            if (cnt > 0)
            {
                int vda = checked((int)(at + U32(image, vd + 12)));
                definitions.Add(CString(image, strtab, U32(image, vda)));
            }

            uint next = U32(image, vd + 16);
            if (next == 0)
            {
                break;
            }

            at += next;
        }
    }

    private static Section StringTable(Section[] sections, uint link, string nameForErrors) =>
        link < sections.Length ? sections[link] : throw new InvalidDataException($"{nameForErrors}: bad string table link {link}");

    private static string CString(ReadOnlySpan<byte> image, Section strtab, uint offset)
    {
        var tail = image.Slice(checked((int)(strtab.Offset + offset)));
        int end = tail.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? tail : tail[..end]);
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(at, 2));

    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(at, 4));

    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(at, 8));

    private readonly record struct Section(uint Type, long Offset, long Size, uint Link, uint Info, long EntSize);
}
