namespace LowLatency.Features.Serving;

/// <summary>Why a feature-server operation was refused, with the HTTP status Feast's server answers it with.</summary>
public enum FeatureErrorKind : byte
{
    /// <summary>400: the request is malformed (a missing entity column, a value of the wrong type, …).</summary>
    BadRequest,

    /// <summary>404: a feature view, feature or feature service the repository does not define.</summary>
    NotFound,

    /// <summary>422: a push source the repository does not define.</summary>
    UnknownPushSource,

    /// <summary>503: an online store could not be reached.</summary>
    Unavailable,
}
