using System.Reflection;
using NetArchTest.Rules;

namespace LowLatency.Tests.Architecture;

/// <summary>
/// Layers as namespaces, lowest first: a type of one layer may use its own and those below it,
/// never one above. Read from the compiled assembly (signatures, fields, base types and method
/// bodies), so a reference hidden in a method body counts as much as one in a signature. A
/// constant is the exception: the compiler copies its value where it is used, leaving no reference.
/// </summary>
internal static class LayerRules
{
    /// <summary>Every use of a higher layer, as "type (layer) uses higher layer".</summary>
    public static List<string> BackEdges(Assembly assembly, string root, IReadOnlyList<string> layers)
    {
        var edges = new List<string>();
        for (int i = 0; i < layers.Count; i++)
        {
            for (int j = i + 1; j < layers.Count; j++)
            {
                var result = Types.InAssembly(assembly)
                    .That().ResideInNamespace($"{root}.{layers[i]}")
                    .ShouldNot().HaveDependencyOn($"{root}.{layers[j]}")
                    .GetResult();
                foreach (var type in result.FailingTypeNames ?? [])
                {
                    edges.Add($"{type} ({layers[i]}) uses {layers[j]}, a layer above it");
                }
            }
        }

        return edges;
    }

    /// <summary>
    /// Every use, by a type of <paramref name="layers"/>, of a type declared in <paramref name="root"/>
    /// itself or in the global namespace (an application's top: its startup and options), which sit
    /// above every layer. Compiler-generated types (names starting with '&lt;') are left out.
    /// </summary>
    public static List<string> UsesOfTop(Assembly assembly, string root, IReadOnlyList<string> layers)
    {
        var top = new List<string>();
        foreach (var type in assembly.GetTypes())
        {
            if ((type.Namespace is null || type.Namespace == root) && !type.Name.StartsWith('<') && type.DeclaringType is null)
            {
                top.Add(type.FullName!);
            }
        }

        var edges = new List<string>();
        foreach (var layer in layers)
        {
            var result = Types.InAssembly(assembly)
                .That().ResideInNamespace($"{root}.{layer}")
                .ShouldNot().HaveDependencyOnAny([.. top])
                .GetResult();
            foreach (var type in result.FailingTypeNames ?? [])
            {
                edges.Add($"{type} ({layer}) uses the top of {root} ({string.Join(", ", top)})");
            }
        }

        return edges;
    }

    /// <summary>The namespaces directly under <paramref name="root"/> that hold a type of the assembly.</summary>
    public static SortedSet<string> Folders(Assembly assembly, string root)
    {
        var folders = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (type.Namespace is { } ns && ns.StartsWith(root + ".", StringComparison.Ordinal))
            {
                folders.Add(ns[(root.Length + 1)..].Split('.')[0]);
            }
        }

        return folders;
    }
}
