namespace LowLatency.Host;

/// <summary>
/// Binds a settings section to its type. A value that does not convert (a word where a number goes,
/// an unknown enum name) is refused at startup naming the setting, the value and what it takes,
/// instead of escaping from the configuration binder as an unhandled exception that aborts the process.
/// </summary>
internal static class SettingsBinder
{
    public static T Bind<T>(IConfigurationSection section)
        where T : new()
    {
        try
        {
            return section.Get<T>() ?? new T();
        }
        catch (InvalidOperationException e) when (e.InnerException is FormatException or ArgumentException or OverflowException)
        {
            // The binder's message names the key and value; the inner one says why (for an enum, the names it takes).
            throw new StartupRefusedException($"{e.Message} {Allowed(typeof(T), e.Message)}{e.InnerException.Message}");
        }
    }

    /// <summary>For a setting of an enum type, the names it takes.</summary>
    private static string Allowed(Type settings, string message)
    {
        foreach (var p in settings.GetProperties())
        {
            var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            if (type.IsEnum && message.Contains($"'{type.FullName}'", StringComparison.Ordinal))
            {
                return $"It takes {string.Join(", ", Enum.GetNames(type))}. ";
            }
        }

        return "";
    }
}
