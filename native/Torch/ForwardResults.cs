using System.Runtime.InteropServices;

namespace LowLatency.Native.Torch;

/// <summary>
/// Where LibTorchSharp writes what a TorchScript call returned: one native block per thread,
/// allocated once, handed out array by array through <see cref="Allocate"/> (the allocator the
/// native side calls back, on the calling thread). Its layout and type codes are LibTorchSharp's
/// (<c>TensorOrScalar</c> and <c>ReturnHelper</c> in THSJIT.cpp, 0.107). Nothing managed, not even
/// once per thread: a thread's first call would otherwise show in the allocation budgets.
/// </summary>
internal unsafe partial struct ForwardResults
{
    /// <summary>Entries in all arrays of one call: a model with more outputs (nested ones counted) is refused.</summary>
    internal const int Capacity = 256;

    /// <summary>Arrays in one call: one per tensor, tuple or list returned, nested ones counted.</summary>
    private const int MaxArrays = 64;

    // ReturnHelper's top-level type codes.
    private const sbyte SingleTensor = 1;
    private const sbyte TupleOfTensors = 2;
    private const sbyte ListOfTensors = 3;
    private const sbyte SingleScalar = 4;

    // An entry's own type codes inside an array.
    private const long TensorEntry = 0;
    private const long ScalarEntry = 4;

    [ThreadStatic]
    private static ForwardResults* t_current;

    private fixed int _start[MaxArrays];
    private fixed int _length[MaxArrays];
    private int _used;
    private int _arrays;
    private Entry* _entries;

    /// <summary>
    /// This thread's block, emptied. Made on a thread's first call and never freed: one small block
    /// (~6.5 KB) per thread that ever ran a model, and those are long-lived device workers.
    /// </summary>
    public static ForwardResults* ForThisThread()
    {
        var results = t_current;
        if (results == null)
        {
            results = (ForwardResults*)NativeMemory.AllocZeroed((nuint)sizeof(ForwardResults));
            results->_entries = (Entry*)NativeMemory.AlignedAlloc(Capacity * (nuint)sizeof(Entry), 64);
            t_current = results;
        }

        results->_used = 0;
        results->_arrays = 0;
        return results;
    }

    /// <summary>LibTorchSharp's allocator: a zeroed array of <paramref name="length"/> entries, or null when full (it then reports an error).</summary>
    [UnmanagedCallersOnly]
    internal static Entry* Allocate(int index, nuint length)
    {
        var results = t_current;
        if (results == null || index != results->_arrays || results->_arrays == MaxArrays || length > (nuint)(Capacity - results->_used))
        {
            return null;
        }

        var array = results->_entries + results->_used;
        NativeMemory.Clear(array, length * (nuint)sizeof(Entry));
        results->_start[results->_arrays] = results->_used;
        results->_length[results->_arrays] = (int)length;
        results->_arrays++;
        results->_used += (int)length;
        return array;
    }

    /// <summary>
    /// The returned tensors' handles, in order, into <paramref name="outputs"/>; returns how many
    /// there were (those beyond the span are disposed). Refuses anything but a tensor, a tuple or a
    /// list of tensors, disposing it.
    /// </summary>
    public int TakeTensors(sbyte code, Span<TensorHandle> outputs)
    {
        if (_arrays == 0 || (code != SingleTensor && code != TupleOfTensors && code != ListOfTensors))
        {
            DisposeAll(code);
            throw new InvalidOperationException($"the model returned {Describe(code)}, not a tensor or a tuple or list of tensors");
        }

        var array = _entries + _start[0];
        int count = _length[0];
        for (int i = 0; i < count; i++)
        {
            if (array[i].Handle == IntPtr.Zero)
            {
                DisposeAll(code);
                throw new InvalidOperationException($"the model returned an undefined tensor as output {i}");
            }
        }

        for (int i = 0; i < count; i++)
        {
            var handle = new TensorHandle(array[i].Handle);
            if (i < outputs.Length)
            {
                outputs[i] = handle;
            }
            else
            {
                handle.Dispose();
            }
        }

        return count;
    }

    /// <summary>Frees every tensor and scalar the call returned, nested ones included.</summary>
    public void DisposeAll(sbyte code)
    {
        if (code == SingleScalar && _arrays > 0)
        {
            // The one place where a scalar sits in an entry marked as a tensor.
            THSTorch_dispose_scalar(_entries[_start[0]].Handle);
            return;
        }

        // Unfilled entries are zero (array index 0), nested arrays' entries carry their array's
        // index, and every leaf has -1: only leaves own a handle.
        for (int e = 0; e < _used; e++)
        {
            var entry = _entries[e];
            if (entry.ArrayIndex != -1 || entry.Handle == IntPtr.Zero || entry.Handle == -1)
            {
                continue;
            }

            if (entry.TypeCode == TensorEntry)
            {
                new TensorHandle(entry.Handle).Dispose();
            }
            else if (entry.TypeCode == ScalarEntry)
            {
                THSTorch_dispose_scalar(entry.Handle);
            }
        }
    }

    private static string Describe(sbyte code) => code switch
    {
        0 => "a value TorchSharp cannot pass back (or more than " + Capacity + " values)",
        SingleScalar => "a scalar",
        5 => "a tuple of scalars",
        6 => "a list of scalars",
        7 => "a list of tensors and scalars",
        8 => "None",
        9 => "a nested list",
        10 => "a tuple that holds more than tensors",
        _ => $"a value of TorchSharp type code {code}",
    };

    [LibraryImport("LibTorchSharp")]
    private static partial void THSTorch_dispose_scalar(IntPtr scalar);

    /// <summary>LibTorchSharp's <c>TensorOrScalar</c>: 24 bytes, as TorchSharp 0.107 lays it out.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal readonly struct Entry(long typeCode, long arrayIndex, IntPtr handle)
    {
        public readonly long TypeCode = typeCode;
        public readonly long ArrayIndex = arrayIndex;
        public readonly IntPtr Handle = handle;
    }
}
