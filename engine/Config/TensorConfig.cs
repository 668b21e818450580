namespace LowLatency.Engine.Config;

/// <summary>An input or output: <c>dims</c> exclude the batch dimension; -1 marks a variable dimension.</summary>
public sealed record TensorConfig(string Name, TensorDataType DataType, long[] Dims)
{
    public byte[] NameUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(Name);

    public bool HasVariableDims => Array.IndexOf(Dims, -1L) >= 0;
}
