namespace LowLatency.Engine.Requests;

/// <summary>
/// A batch's outputs, which each request of the batch reads through views until its response is
/// written: the request holds one reference and gives it back once.
/// </summary>
internal interface IOutputHolder
{
    void Release();
}
