using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using LowLatency.Features.Store;
using LowLatency.Streams.Events;
using LowLatency.Streams.Windows;

namespace LowLatency.Streams.State;

/// <summary>
/// A key's windows as checkpoint bytes, little-endian: a version byte, then per view a u16 window
/// count and per window start, end (i64), events (i32), flags (u8: fired 1, dirty 2), each cell's
/// N, V, T and position (i64, f64, i64, u64, u64), each sketch's count (u8) and hashes (u64 each).
/// The field of a key in the partition's state hash is its id as text.
/// </summary>
public static class KeyStateCodec
{
    public const byte Version = 1;

    public static string Field(EntityKey key) => key.String ?? key.Int64.ToString(CultureInfo.InvariantCulture);

    public static EntityKey Key(string field, bool stringKeys) =>
        stringKeys ? EntityKey.Of(field) : EntityKey.Of(long.Parse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));

    public static void Write(KeyState key, IReadOnlyList<ViewProgram> views, IBufferWriter<byte> output)
    {
        var w = new Writer(output);
        w.U8(Version);
        for (int v = 0; v < views.Count; v++)
        {
            var list = key.Views[v];
            w.U16((ushort)(list?.Count ?? 0));
            foreach (var window in list ?? [])
            {
                w.I64(window.Start);
                w.I64(window.End);
                w.I32(window.Events);
                w.U8((byte)((window.Fired ? 1 : 0) | (window.Dirty ? 2 : 0)));
                foreach (var cell in window.Cells)
                {
                    w.I64(cell.N);
                    w.I64(BitConverter.DoubleToInt64Bits(cell.V));
                    w.I64(cell.T);
                    w.I64((long)cell.P.Major);
                    w.I64((long)cell.P.Minor);
                }

                foreach (var sketch in window.Sketches)
                {
                    w.U8((byte)sketch.Count);
                    foreach (ulong h in sketch.Hashes)
                    {
                        w.I64((long)h);
                    }
                }
            }
        }
    }

    public static KeyState Read(EntityKey id, ReadOnlySpan<byte> bytes, IReadOnlyList<ViewProgram> views)
    {
        if (bytes.Length == 0 || bytes[0] != Version)
        {
            throw new InvalidDataException($"the checkpointed state of key {id} is not of version {Version}");
        }

        int at = 1;
        var key = new KeyState(id, views.Count);
        for (int v = 0; v < views.Count; v++)
        {
            var view = views[v];
            int windows = BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]);
            at += 2;
            for (int i = 0; i < windows; i++)
            {
                var w = new WindowState(I64(bytes, ref at), I64(bytes, ref at), view.Cells.Length, view.Sketches)
                {
                    Events = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]),
                };
                at += 4;
                byte flags = bytes[at++];
                w.Fired = (flags & 1) != 0;
                w.Dirty = (flags & 2) != 0;
                for (int c = 0; c < w.Cells.Length; c++)
                {
                    w.Cells[c] = new AggregateCell
                    {
                        N = I64(bytes, ref at),
                        V = BitConverter.Int64BitsToDouble(I64(bytes, ref at)),
                        T = I64(bytes, ref at),
                        P = new StreamPosition((ulong)I64(bytes, ref at), (ulong)I64(bytes, ref at)),
                    };
                }

                foreach (var sketch in w.Sketches)
                {
                    int n = bytes[at++];
                    for (int h = 0; h < n; h++)
                    {
                        sketch.Add((ulong)I64(bytes, ref at));
                    }
                }

                (key.Views[v] ??= []).Add(w);
                key.Windows++;
                key.Bytes += view.WindowBytes;
            }
        }

        return key;
    }

    private static long I64(ReadOnlySpan<byte> bytes, ref int at)
    {
        long value = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
        at += 8;
        return value;
    }

    private ref struct Writer(IBufferWriter<byte> output)
    {
        public readonly void U8(byte value)
        {
            output.GetSpan(1)[0] = value;
            output.Advance(1);
        }

        public readonly void U16(ushort value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(output.GetSpan(2), value);
            output.Advance(2);
        }

        public readonly void I32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), value);
            output.Advance(4);
        }

        public readonly void I64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
            output.Advance(8);
        }
    }
}
