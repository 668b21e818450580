using LowLatency.Features.Store;

namespace LowLatency.Streams.Windows;

/// <summary>
/// Takes a window's value when it fires or is updated late. The window changes afterwards: an
/// emitter copies what it needs (the row) before returning.
/// </summary>
public interface IWindowEmitter
{
    void Emit(ViewProgram view, EntityKey key, WindowState window);
}
