using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LowLatency.Native.Elf;
using TorchSharp;

namespace LowLatency.Native.Torch;

/// <summary>What <see cref="LibTorchLoader.EnsureLoaded"/> did, for the start-up log.</summary>
public sealed record LibTorchLoadReport(bool Patched, string Reason, string? BindingLibrary, string? LibStdCxx);
