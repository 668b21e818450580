using System.Runtime.InteropServices;

namespace LowLatency.Native.Files;

/// <summary>
/// Which file a path names and which write of it: its inode and its status-change time besides size
/// and modification time. Size and mtime alone miss a replacement that keeps both (a copy made with
/// <c>cp -p</c> or <c>rsync -t</c>, an artefact store that sets mtimes, a rename of an equally sized
/// file); the kernel sets ctime on every write and rename, and no tool can set it back.
/// </summary>
/// <param name="Inode">0 where the platform does not say.</param>
/// <param name="ChangeTimeNanoseconds">0 where the platform does not say.</param>
public readonly partial record struct FileIdentity(long Size, long ModifiedTicks, long Inode, long ChangeTimeNanoseconds)
{
    private const int AtFdCwd = -100;
    private const uint StatxMtime = 0x40;
    private const uint StatxCtime = 0x80;
    private const uint StatxIno = 0x100;
    private const uint StatxSize = 0x200;

    /// <summary>The identity of the file at <paramref name="path"/> (symbolic links followed), or null when there is none.</summary>
    public static FileIdentity? Of(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        var basic = new FileIdentity(info.Length, info.LastWriteTimeUtc.Ticks, 0, 0);
        return OperatingSystem.IsLinux() && Statx.Read(path, out long inode, out long ctimeNs) ? basic with { Inode = inode, ChangeTimeNanoseconds = ctimeNs } : basic;
    }

    public override string ToString() => $"{Size}:{ModifiedTicks}:{Inode}:{ChangeTimeNanoseconds}";

    private static partial class Statx
    {
        // struct statx is the same on every Linux architecture: 256 bytes, stx_ino at 32,
        // stx_ctime (a 64-bit second count, then 32-bit nanoseconds) at 96.
        private const int BufferSize = 256;
        private const int InodeOffset = 32;
        private const int ChangeTimeOffset = 96;

        public static unsafe bool Read(string path, out long inode, out long ctimeNs)
        {
            byte* buffer = stackalloc byte[BufferSize];
            uint mask = StatxIno | StatxCtime | StatxSize | StatxMtime;
            inode = 0;
            ctimeNs = 0;
            try
            {
                if (Call(AtFdCwd, path, 0, mask, buffer) != 0)
                {
                    return false;
                }
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                // A C library without a statx wrapper (glibc before 2.28, older musl): size and mtime only.
                return false;
            }

            uint got = *(uint*)buffer;
            inode = (got & StatxIno) != 0 ? *(long*)(buffer + InodeOffset) : 0;
            ctimeNs = (got & StatxCtime) != 0 ? (*(long*)(buffer + ChangeTimeOffset) * 1_000_000_000) + *(uint*)(buffer + ChangeTimeOffset + 8) : 0;
            return true;
        }

        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
        private static unsafe partial int Call(int dirfd, string path, int flags, uint mask, byte* buffer);
    }
}
