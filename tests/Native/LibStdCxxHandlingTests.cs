using LowLatency.Native.Elf;
using LowLatency.Native.Torch;
using TorchSharp;

namespace LowLatency.Tests.Native;

/// <summary>
/// The libstdc++ handling: TorchSharp 0.107's binding needs GLIBCXX_3.4.32 only for a symbol it never
/// relocates; on a libstdc++ without that version the loader uses a copy with the need made weak.
/// </summary>
public sealed class LibStdCxxHandlingTests
{
    private static readonly string Binding = FindBinding();

    [Fact]
    public void The_binding_needs_GLIBCXX_3_4_32_only_for_ios_base_library_init()
    {
        var info = ElfVersionInfo.Read(Binding);
        var need = Assert.Single(info.Needs, n => n.Name == "GLIBCXX_3.4.32");
        Assert.Equal(LibTorchLoader.LibStdCxx, need.File);
        Assert.False(need.IsWeak);
        Assert.Equal(["_ZSt21ios_base_library_initv"], info.UndefinedSymbolsBoundTo(need.Index));
    }

    [Fact]
    public void A_libstdcxx_without_the_version_gets_exactly_that_need_weakened()
    {
        var info = ElfVersionInfo.Read(Binding);
        var provided = AllNeededFromLibStdCxx(info);
        provided.Remove("GLIBCXX_3.4.32");

        var plan = VersionNeedPatch.Plan(info, LibTorchLoader.LibStdCxx, provided);

        Assert.Equal(["GLIBCXX_3.4.32"], plan.Weaken.Select(n => n.Name));
        Assert.Empty(plan.Blocking);
    }

    [Fact]
    public void A_libstdcxx_with_every_version_needs_no_patch()
    {
        var info = ElfVersionInfo.Read(Binding);
        Assert.True(VersionNeedPatch.Plan(info, LibTorchLoader.LibStdCxx, AllNeededFromLibStdCxx(info)).NothingToDo);
    }

    [Fact]
    public void A_missing_version_that_real_symbols_use_is_reported_not_patched()
    {
        var info = ElfVersionInfo.Read(Binding);
        var provided = AllNeededFromLibStdCxx(info);
        provided.Remove("GLIBCXX_3.4.30");

        var plan = VersionNeedPatch.Plan(info, LibTorchLoader.LibStdCxx, provided);

        Assert.Empty(plan.Weaken);
        Assert.Contains(plan.Blocking, b => b.StartsWith("GLIBCXX_3.4.30 (used by ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_patch_sets_the_weak_flag_and_changes_nothing_else()
    {
        byte[] original = File.ReadAllBytes(Binding);
        var info = ElfVersionInfo.Read(original);
        var provided = AllNeededFromLibStdCxx(info);
        provided.Remove("GLIBCXX_3.4.32");
        var plan = VersionNeedPatch.Plan(info, LibTorchLoader.LibStdCxx, provided);

        byte[] patched = (byte[])original.Clone();
        VersionNeedPatch.Apply(patched, plan);

        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        long flags = plan.Weaken[0].FlagsOffset;
        Assert.All(changed, i => Assert.InRange(i, flags, flags + 1));
        Assert.NotEmpty(changed);
        var after = ElfVersionInfo.Read(patched);
        Assert.True(Assert.Single(after.Needs, n => n.Name == "GLIBCXX_3.4.32").IsWeak);
        Assert.True(VersionNeedPatch.Plan(after, LibTorchLoader.LibStdCxx, provided).NothingToDo);
    }

    [Fact]
    public void The_loader_patches_only_when_this_system_lacks_the_version()
    {
        var report = LibTorchLoader.EnsureLoaded();
        string? stdcxx = LibTorchLoader.FindLoadedLibrary(LibTorchLoader.LibStdCxx);
        Assert.NotNull(stdcxx);
        bool systemHasIt = ElfVersionInfo.Read(stdcxx).Definitions.Contains("GLIBCXX_3.4.32");

        Assert.Equal(!systemHasIt, report.Patched);
        if (report.Patched)
        {
            Assert.NotEqual(Binding, report.BindingLibrary);
            Assert.True(ElfVersionInfo.Read(report.BindingLibrary!).Needs.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
        }

        // And libtorch works through it.
        using var t = torch.arange(4, dtype: torch.float32).sum();
        Assert.Equal(6f, t.item<float>());
    }

    [Fact]
    public void Not_an_ELF_file_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionInfo.Read(new byte[100], "x.so"));
        Assert.Equal("x.so: not an ELF file", e.Message);
    }

    private static HashSet<string> AllNeededFromLibStdCxx(ElfVersionInfo info) =>
        info.Needs.Where(n => n.File == LibTorchLoader.LibStdCxx).Select(n => n.Name).ToHashSet();

    private static string FindBinding()
    {
        string dir = Path.GetDirectoryName(typeof(torch).Assembly.Location)!;
        return new[] { Path.Combine(dir, "libLibTorchSharp.so"), Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so") }.First(File.Exists);
    }
}
