namespace LowLatency.Host.Protocol;

/// <summary>
/// Where in the request a field is (<c>inputs[2]</c>), for error messages. A struct formatted only
/// when an error message is actually built, so a valid request allocates no such strings.
/// </summary>
internal readonly record struct Where(string List, int Position)
{
    public override string ToString() => $"{List}[{Position}]";
}
