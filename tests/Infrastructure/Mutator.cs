namespace LowLatency.Tests.Infrastructure;

/// <summary>
/// Mutates valid request bodies the way a fuzzer would, deterministically from a seed: bit flips,
/// byte overwrites with boundary values, insertions, deletions, truncation, duplicated or swapped
/// chunks, and splices of two bodies. Several mutations may stack on one body.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xC0, 0xC1, 0xCC, 0xCD, 0xCE, 0xCF, 0xD0, 0xD3, 0xDC, 0xDD, 0xDE, 0xDF, 0x90, 0x9F, 0xA0, 0xBF, 0xC4, 0xC6, (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'-', (byte)'9', (byte)'e', (byte)'\\'];
    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] body, byte[] other)
    {
        var b = new List<byte>(body);
        int rounds = 1 + _random.Next(4);
        for (int i = 0; i < rounds; i++)
        {
            int at = b.Count == 0 ? 0 : _random.Next(b.Count);
            switch (_random.Next(9))
            {
                case 0 when b.Count > 0:
                    b[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1 when b.Count > 0:
                    b[at] = Interesting[_random.Next(Interesting.Length)];
                    break;
                case 2:
                    b.Insert(at, Interesting[_random.Next(Interesting.Length)]);
                    break;
                case 3 when b.Count > 0:
                    b.RemoveRange(at, Math.Min(b.Count - at, 1 + _random.Next(16)));
                    break;
                case 4:
                    b.RemoveRange(at, b.Count - at);
                    break;
                case 5 when b.Count > 0:
                    {
                        int len = Math.Min(b.Count - at, 1 + _random.Next(64));
                        b.InsertRange(_random.Next(b.Count), b.GetRange(at, len));
                        break;
                    }

                case 6 when b.Count > 8:
                    {
                        int len = 1 + _random.Next(Math.Min(32, b.Count / 2));
                        int from = _random.Next(b.Count - len), to = _random.Next(b.Count - len);
                        var chunk = b.GetRange(from, len);
                        b.RemoveRange(from, len);
                        b.InsertRange(Math.Min(to, b.Count), chunk);
                        break;
                    }

                case 7 when other.Length > 0:
                    {
                        int cut = _random.Next(other.Length);
                        b.RemoveRange(at, b.Count - at);
                        b.AddRange(other.AsSpan(cut).ToArray());
                        break;
                    }

                default:
                    // A 4-byte or 8-byte run of 0xFF or 0x00: huge lengths, negative numbers, NaNs.
                    for (int k = 0; k < (_random.Next(2) == 0 ? 4 : 8) && at + k < b.Count; k++)
                    {
                        b[at + k] = _random.Next(2) == 0 ? (byte)0xFF : (byte)0x00;
                    }

                    break;
            }
        }

        return [.. b];
    }
}
