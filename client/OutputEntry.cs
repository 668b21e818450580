namespace LowLatency.Client;

/// <summary>One output of an answer as the decoders record it: where its name and bytes lie, its datatype, its dimensions in the result's shape table.</summary>
internal struct OutputEntry
{
    public Slice Name;
    public TensorDatatype Datatype;
    public int DimStart;
    public int Rank;
    public Slice Data;
}
