namespace LowLatency.Features.Definitions;

/// <summary>What one definition file holds, each object with the path of its field for later errors.</summary>
internal sealed class DefinitionFile
{
    public List<(EntityDefinition Entity, string Path)> Entities { get; } = [];

    public List<(PushSource Source, string Path)> PushSources { get; } = [];

    public List<(StreamSource Source, string Path)> StreamSources { get; } = [];

    public List<ViewDraft> Views { get; } = [];

    public List<ServiceDraft> Services { get; } = [];
}
