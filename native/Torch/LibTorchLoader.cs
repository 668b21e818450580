using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LowLatency.Native.Elf;
using TorchSharp;

namespace LowLatency.Native.Torch;

/// <summary>
/// Loads TorchSharp's native layer (libLibTorchSharp.so and libtorch) before anything touches
/// <c>torch</c>. On a system whose libstdc++ lacks a version that libLibTorchSharp.so needs only for a
/// never-relocated symbol (TorchSharp 0.107 is built with GCC 13; Debian 12 ships GCC 12's
/// libstdc++), it loads a patched copy instead: see <see cref="VersionNeedPatch"/>. The package's own
/// files are never modified.
/// </summary>
public static class LibTorchLoader
{
    public const string LibStdCxx = "libstdc++.so.6";
    private const string BindingLibrary = "libLibTorchSharp.so";

    private static readonly object Gate = new();
    private static LibTorchLoadReport? s_report;

    /// <summary>Idempotent and thread-safe; the first call does the work.</summary>
    public static LibTorchLoadReport EnsureLoaded()
    {
        lock (Gate)
        {
            if (s_report is not null)
            {
                return s_report;
            }

            s_report = Load();
            // Touch libtorch now, so a failure surfaces here with the trace, not at the first request.
            torch.InitializeDeviceType(DeviceType.CPU);
            return s_report;
        }
    }

    private static LibTorchLoadReport Load()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new LibTorchLoadReport(false, "not Linux: TorchSharp loads its own binaries", null, null);
        }

        string binding = FindBindingLibrary()
            ?? throw new FileNotFoundException($"{BindingLibrary} not found next to TorchSharp.dll or under runtimes/linux-x64/native");
        string? stdcxx = FindLoadedLibrary(LibStdCxx);
        if (stdcxx is null)
        {
            return new LibTorchLoadReport(false, $"{LibStdCxx} not found in this process; TorchSharp loads its own binaries", binding, null);
        }

        var plan = VersionNeedPatch.Plan(ElfVersionInfo.Read(binding), LibStdCxx, new HashSet<string>(ElfVersionInfo.Read(stdcxx).Definitions));
        if (plan.Blocking.Count > 0)
        {
            throw new DllNotFoundException(
                $"{binding} needs versions that {stdcxx} does not provide and that cannot be weakened safely: {string.Join("; ", plan.Blocking)}. Install a newer libstdc++.");
        }

        if (plan.NothingToDo)
        {
            return new LibTorchLoadReport(false, $"{stdcxx} provides every version {BindingLibrary} needs", binding, stdcxx);
        }

        string patched = WritePatchedCopy(binding, plan);
        string dir = Path.GetDirectoryName(binding)!;
        // The copy lives elsewhere, so its $ORIGIN runpath no longer finds libtorch: load libtorch from
        // the package first, then the copy's DT_NEEDED entries match those sonames already loaded.
        foreach (var dep in (string[])["libc10.so", "libtorch_cpu.so", "libtorch.so"])
        {
            string p = Path.Combine(dir, dep);
            if (File.Exists(p))
            {
                NativeLibrary.Load(p);
            }
        }

        IntPtr handle = NativeLibrary.Load(patched);
        DllImportResolver resolver = (name, _, _) => name == "LibTorchSharp" ? handle : IntPtr.Zero;
        NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, resolver);
        NativeLibrary.SetDllImportResolver(typeof(LibTorchLoader).Assembly, resolver);
        string weakened = string.Join(", ", plan.Weaken.Select(n => n.Name));
        return new LibTorchLoadReport(true, $"{stdcxx} lacks {weakened}; loaded a copy of {BindingLibrary} with that need marked weak", patched, stdcxx);
    }

    private static string? FindBindingLibrary()
    {
        string dir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory;
        foreach (var candidate in (string[])[Path.Combine(dir, BindingLibrary), Path.Combine(dir, "runtimes", "linux-x64", "native", BindingLibrary)])
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Loads <paramref name="soname"/> the way the dynamic linker would and returns the file it mapped.</summary>
    internal static string? FindLoadedLibrary(string soname)
    {
        if (!NativeLibrary.TryLoad(soname, out _))
        {
            return null;
        }

        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            // The mapped file is the soname itself or the versioned file it links to (libstdc++.so.6.0.30).
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && Path.GetFileName(line.AsSpan(slash)).StartsWith(soname, StringComparison.Ordinal))
            {
                return line[slash..];
            }
        }

        return null;
    }

    /// <summary>
    /// Writes the patched copy into a cache folder keyed by the original's hash, atomically (temp file
    /// plus rename), so concurrent processes and upgraded packages never see a half-written or stale file.
    /// </summary>
    internal static string WritePatchedCopy(string original, VersionNeedPlan plan)
    {
        byte[] image = File.ReadAllBytes(original);
        string key = Convert.ToHexString(SHA256.HashData(image))[..16].ToLowerInvariant();
        string root = Environment.GetEnvironmentVariable("LOWLATENCY_NATIVE_CACHE") is { Length: > 0 } env
            ? env
            : Path.Combine(Path.GetTempPath(), "lowlatency-native");
        string dir = Path.Combine(root, key);
        string target = Path.Combine(dir, BindingLibrary);
        VersionNeedPatch.Apply(image, plan);
        if (File.Exists(target) && File.ReadAllBytes(target).AsSpan().SequenceEqual(image))
        {
            return target;
        }

        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $"{BindingLibrary}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temp, image);
        File.Move(temp, target, overwrite: true);
        return target;
    }
}
