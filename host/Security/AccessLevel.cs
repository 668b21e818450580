namespace LowLatency.Host.Security;

/// <summary>Who may read an operations endpoint (<c>/metrics</c>, <c>/v2/health/*</c>).</summary>
internal enum AccessLevel
{
    /// <summary>Anyone: scrapers and load balancers need no credential.</summary>
    Open,

    /// <summary>Any valid credential.</summary>
    Authenticated,

    /// <summary>A credential with the <c>admin</c> scope.</summary>
    Admin,
}
