namespace LowLatency.Host.Protocol;

/// <summary>gRPC's 17 canonical status names, by status value: the gRPC face answers with them and the response metrics label by them.</summary>
internal static class GrpcStatusNames
{
    public static readonly string[] All =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];
}
