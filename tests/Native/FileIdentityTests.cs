using LowLatency.Native.Files;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Native;

/// <summary>A file's identity changes with every replacement or write, even one that keeps its size and timestamp.</summary>
public sealed class FileIdentityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ll-identity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_untouched_file_keeps_its_identity_and_a_missing_one_has_none()
    {
        string file = Write("model.pt", [1, 2, 3, 4]);
        Assert.Equal(FileIdentity.Of(file), FileIdentity.Of(file));
        Assert.Null(FileIdentity.Of(Path.Combine(_dir, "absent.pt")));
    }

    [Fact]
    public void A_file_renamed_over_by_one_of_the_same_size_and_timestamp_is_told_apart()
    {
        string file = Write("model.pt", [1, 2, 3, 4]);
        var mtime = File.GetLastWriteTimeUtc(file);
        var before = FileIdentity.Of(file)!.Value;

        // How a model is shipped atomically: written beside, timestamp kept (cp -p), renamed over.
        string staged = Write("model.pt.tmp", [5, 6, 7, 8]);
        File.SetLastWriteTimeUtc(staged, mtime);
        File.Move(staged, file, overwrite: true);
        var after = FileIdentity.Of(file)!.Value;

        Assert.Equal((before.Size, before.ModifiedTicks), (after.Size, after.ModifiedTicks));
        Assert.NotEqual(before, after);
        if (OperatingSystem.IsLinux())
        {
            Assert.NotEqual(before.Inode, after.Inode);
        }
    }

    [Fact]
    public void A_file_rewritten_in_place_with_its_timestamp_put_back_is_told_apart_on_Linux()
    {
        string file = Write("model.pt", [1, 2, 3, 4]);
        var mtime = File.GetLastWriteTimeUtc(file);
        var before = FileIdentity.Of(file)!.Value;

        // The kernel's file timestamps may be as coarse as its tick (4 ms): wait until its file clock
        // has moved past the first write's (a probe file's status-change time shows it), so that the
        // rewrite's can differ at all.
        if (OperatingSystem.IsLinux())
        {
            string probe = Path.Combine(_dir, "clock-probe");
            Assert.True(
                Poll.Until(() =>
                {
                    File.WriteAllBytes(probe, [0]);
                    return FileIdentity.Of(probe)!.Value.ChangeTimeNanoseconds > before.ChangeTimeNanoseconds;
                }),
                "the kernel's file clock did not move");
        }

        File.WriteAllBytes(file, [5, 6, 7, 8]);
        File.SetLastWriteTimeUtc(file, mtime);
        var after = FileIdentity.Of(file)!.Value;

        Assert.Equal((before.Size, before.ModifiedTicks, before.Inode), (after.Size, after.ModifiedTicks, after.Inode));
        if (OperatingSystem.IsLinux())
        {
            Assert.True(after.ChangeTimeNanoseconds > before.ChangeTimeNanoseconds, $"ctime {before.ChangeTimeNanoseconds} -> {after.ChangeTimeNanoseconds}");
            Assert.NotEqual(before, after);
        }
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
