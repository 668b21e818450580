namespace LowLatency.Client.Wire;

/// <summary>An answer the decoders cannot read; the client reports it as <see cref="InferenceStatus.Internal"/>.</summary>
internal sealed class MalformedAnswerException(string message) : Exception(message);
