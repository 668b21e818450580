namespace LowLatency.Engine.Config;

public enum VersionPolicyKind
{
    Latest,
    All,
    Specific,
}
