namespace LowLatency.Features.Store;

/// <summary>What a read found for one (view, entity) row.</summary>
public enum RowState : byte
{
    /// <summary>Not read yet: what a read starts from.</summary>
    Pending,

    /// <summary>The row's values were copied into the destination; its event time is set.</summary>
    Found,

    /// <summary>The store holds no row for it (or one written under another layout of the view).</summary>
    NotFound,

    /// <summary>The store could not be asked (down, timed out): the destination is untouched.</summary>
    Unavailable,
}
