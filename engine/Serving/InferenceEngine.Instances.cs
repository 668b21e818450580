using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Repository;

namespace LowLatency.Engine.Serving;

/// <summary>
/// Instance counts changed at run time, without a reload: on the loader thread, so a change never
/// interleaves with a load or unload of the same model, and one worker at a time (see
/// <see cref="ModelVersion.SetInstances"/>). Not written back to config.json: a reload or a restart
/// serves the file's count again.
/// </summary>
public sealed partial class InferenceEngine
{
    /// <summary>
    /// Sets the instance count of instance group <paramref name="group"/> (by name; null: the only
    /// group) of <paramref name="version"/> (null: every version served) of a served model.
    /// </summary>
    public Task<RepositoryOutcome> SetInstancesAsync(string name, string? version, string? group, int count)
    {
        if (_loader is null || _stopping)
        {
            return Task.FromResult(new RepositoryOutcome(503, "the server is not ready or is shutting down"));
        }

        if (!ModelRepository.IsValidName(name))
        {
            return Task.FromResult(RepositoryOutcome.BadRequest($"{ClientText.Quoted(name)} is not a valid model name (letters, digits, '-', '_', '.'; not starting with '.')"));
        }

        if (count is < 1 or > InstanceCounts.Max)
        {
            return Task.FromResult(RepositoryOutcome.BadRequest($"count: must be within 1 … {InstanceCounts.Max}, not {count}"));
        }

        return _loader.Run(() => SetInstancesOnLoader(name, version, group, count, "the API"), started => ShuttingDown(name, "instance change", started));
    }

    /// <summary>The autoscaler's change: one version to <paramref name="count"/>, on the loader thread, as the API's.</summary>
    internal Task<RepositoryOutcome> ApplyAutoscale(ModelVersion version, int count)
    {
        if (_loader is null || _stopping)
        {
            return Task.FromResult(new RepositoryOutcome(503, "the server is shutting down"));
        }

        return _loader.Run(
            () =>
            {
                if (!version.TryAcquire())
                {
                    return RepositoryOutcome.NotFound($"version {version.VersionString} of model '{version.Config.Name}' is no longer served");
                }

                try
                {
                    return SetInstancesOf(version, null, count, "the autoscaler");
                }
                finally
                {
                    version.Release();
                }
            },
            started => ShuttingDown(version.Config.Name, "instance change", started));
    }

    private RepositoryOutcome SetInstancesOnLoader(string name, string? version, string? group, int count, string by)
    {
        if (!_models.TryGetValue(name, out var served))
        {
            return RepositoryOutcome.NotFound($"model {ClientText.Quoted(name)} is not being served");
        }

        var targets = new List<ModelVersion>();
        if (version is null)
        {
            targets.AddRange(served.Versions.Values);
        }
        else if (!TryParseVersion(version, out long v, out string? error))
        {
            return RepositoryOutcome.BadRequest(error!);
        }
        else if (served.Versions.TryGetValue(v, out var one))
        {
            targets.Add(one);
        }
        else
        {
            return RepositoryOutcome.NotFound($"version {v} of model '{name}' is not served; served: {string.Join(", ", served.Versions.Keys)}");
        }

        foreach (var target in targets)
        {
            // A reference, so a concurrent unload cannot free the version under the change.
            if (!target.TryAcquire())
            {
                continue;
            }

            try
            {
                var outcome = SetInstancesOf(target, group, count, by);
                if (!outcome.Succeeded)
                {
                    return outcome;
                }
            }
            finally
            {
                target.Release();
            }
        }

        return RepositoryOutcome.Ok;
    }

    /// <summary>On the loader thread: one version's group to <paramref name="count"/>, logged per instance added or removed.</summary>
    internal RepositoryOutcome SetInstancesOf(ModelVersion target, string? group, int count, string by)
    {
        var groups = target.Config.InstanceGroups;
        int g = -1;
        if (group is null)
        {
            if (groups.Count > 1)
            {
                return RepositoryOutcome.BadRequest($"group: model '{target.Config.Name}' has {groups.Count} instance groups; name one ({string.Join(", ", groups.Select((x, i) => x.Name is null ? $"#{i} (unnamed)" : ClientText.Quoted(x.Name)))})");
            }

            g = 0;
        }
        else
        {
            for (int i = 0; i < groups.Count; i++)
            {
                if (groups[i].Name == group)
                {
                    g = i;
                }
            }

            if (g < 0)
            {
                return RepositoryOutcome.BadRequest($"group: model '{target.Config.Name}' has no instance group named {ClientText.Quoted(group)}");
            }
        }

        int from = groups[g].Count;
        var outcome = target.SetInstances(g, count);
        int now = target.Config.InstanceGroups[g].Count;
        if (now != from)
        {
            _log?.Invoke(new(EngineEventKind.InstancesChanged, target.Config.Name, target.VersionString,
                $"model '{target.Config.Name}' version {target.VersionString}: instances {from} -> {now} ({by})"));
        }

        return outcome;
    }
}
