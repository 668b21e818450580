using System.Text;
using LowLatency.Join;

namespace LowLatency.Tests.Join;

/// <summary>
/// STRING ids found by their UTF-8 bytes: an id seen before comes back as the same string, made
/// once (no string made per lookup); ids that differ in a byte, or only past ASCII, are told apart;
/// past the capacity the set empties and still answers right.
/// </summary>
public sealed class IdStringsTests
{
    [Fact]
    public void An_id_seen_before_is_the_same_string_and_found_without_allocating()
    {
        var ids = new IdStrings();
        byte[] utf8 = Encoding.UTF8.GetBytes("usér-1001-ü");
        string first = ids.Get(utf8);
        Assert.Equal("usér-1001-ü", first);
        Assert.Same(first, ids.Get(utf8));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            _ = ids.Get(utf8);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Ids_that_differ_are_told_apart()
    {
        var ids = new IdStrings();
        string[] all = ["a", "b", "ab", "é", "e\u0301", "ü", "u-1", "u-10", "日本", "😀"];
        foreach (var id in all)
        {
            Assert.Equal(id, ids.Get(Encoding.UTF8.GetBytes(id)));
        }

        foreach (var id in all)
        {
            Assert.Equal(id, ids.Get(Encoding.UTF8.GetBytes(id)));
        }
    }

    [Fact]
    public void Past_its_capacity_the_set_empties_and_still_answers_right()
    {
        var ids = new IdStrings();
        for (int i = 0; i < IdStrings.Capacity + 10; i++)
        {
            string id = "id-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(id, ids.Get(Encoding.UTF8.GetBytes(id)));
        }

        Assert.Equal("id-3", ids.Get("id-3"u8));
        Assert.Equal("id-65540", ids.Get("id-65540"u8));
    }
}
