namespace LowLatency.Features.Store;

/// <summary>
/// The online stores of one repository behind one <see cref="IOnlineStore"/>: each row goes to the
/// store its view names. With one store in use the repository's reads go to it directly and this
/// is not used; with several, a read is split per store and the stores are asked in parallel.
/// </summary>
public sealed class StoreRouter : IOnlineStore
{
    private readonly IOnlineStore[] _byView;
    private readonly IOnlineStore[] _stores;

    /// <param name="byView">The store of each view, by <see cref="Definitions.FeatureView.Index"/>.</param>
    public StoreRouter(IOnlineStore[] byView)
    {
        _byView = byView;
        _stores = byView.Distinct().ToArray();
    }

    public async ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default)
    {
        var parts = new (int[] Index, RowRead[] Rows, Task Task)[_stores.Length];
        for (int s = 0; s < _stores.Length; s++)
        {
            var index = Select(rows.Span, _stores[s], pendingOnly: true);
            var part = new RowRead[index.Length];
            for (int i = 0; i < index.Length; i++)
            {
                part[i] = rows.Span[index[i]];
            }

            parts[s] = (index, part, index.Length == 0 ? Task.CompletedTask : _stores[s].ReadAsync(part, cancellationToken).AsTask());
        }

        foreach (var (index, part, task) in parts)
        {
            await task.ConfigureAwait(false);
            for (int i = 0; i < index.Length; i++)
            {
                rows.Span[index[i]] = part[i];
            }
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default)
    {
        var tasks = new List<Task>();
        var parts = new List<(int[] Index, bool[] Written)>();
        foreach (var store in _stores)
        {
            var index = new List<int>();
            for (int i = 0; i < rows.Length; i++)
            {
                if (_byView[rows.Span[i].View.Index] == store)
                {
                    index.Add(i);
                }
            }

            if (index.Count == 0)
            {
                continue;
            }

            var part = index.Select(i => rows.Span[i]).ToArray();
            var flags = new bool[part.Length];
            parts.Add((index.ToArray(), flags));
            tasks.Add(store.WriteAsync(part, flags, cancellationToken).AsTask());
        }

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            foreach (var (index, flags) in parts)
            {
                for (int i = 0; i < index.Length; i++)
                {
                    written.Span[index[i]] = flags[i];
                }
            }
        }
    }

    private int[] Select(Span<RowRead> rows, IOnlineStore store, bool pendingOnly)
    {
        var index = new List<int>();
        for (int i = 0; i < rows.Length; i++)
        {
            if (_byView[rows[i].View.Index] == store && (!pendingOnly || rows[i].State == RowState.Pending))
            {
                index.Add(i);
            }
        }

        return index.ToArray();
    }
}
