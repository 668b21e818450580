using System.Runtime.CompilerServices;
using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>Throw helpers for the decoders' cold paths: each names the field that is wrong.</summary>
internal static class BadInput
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string message) => throw new InferenceException(InferenceStatus.BadRequest, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static T Throw<T>(string message) => throw new InferenceException(InferenceStatus.BadRequest, message);
}
