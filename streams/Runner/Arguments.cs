using System.Globalization;
using System.Reflection;

namespace LowLatency.StreamRunner;

/// <summary><c>--name value</c> pairs onto an options object's settable properties (<c>--batch-size</c> or <c>--BatchSize</c> for <c>BatchSize</c>).</summary>
internal static class Arguments
{
    public static Dictionary<string, string> Parse(string[] args)
    {
        var named = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected --name value, found \"{args[i]}\"");
            }

            named[args[i][2..]] = args[++i];
        }

        return named;
    }

    public static T Bind<T>(T options, Dictionary<string, string> named)
    {
        foreach (var (name, value) in named)
        {
            string plain = name.Replace("-", string.Empty, StringComparison.Ordinal);
            var property = typeof(T).GetProperty(plain, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                ?? throw new ArgumentException($"--{name} is not a setting of {typeof(T).Name}");
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            property.SetValue(options, Convert.ChangeType(value, type, CultureInfo.InvariantCulture));
        }

        return options;
    }
}
