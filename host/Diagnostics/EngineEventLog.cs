using System.Collections;
using LowLatency.Engine.Diagnostics;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// Writes the engine's events to the host's log: Warning for what went wrong (a failed load or
/// poll, a refused thread priority, a version released with native handles left), Information for
/// the rest; the event named after its kind; the model and version as fields of their own beside the
/// message, so that a JSON console log can be filtered and alerted on by them.
/// </summary>
internal static class EngineEventLog
{
    /// <summary>Event ids 1100 and up: the engine's events, numbered by kind.</summary>
    private const int EventIdBase = 1100;

    public static void Write(ILogger logger, EngineEvent e)
    {
        var level = e.IsWarning ? LogLevel.Warning : LogLevel.Information;
        if (logger.IsEnabled(level))
        {
            logger.Log(level, new EventId(EventIdBase + (int)e.Kind, e.Kind.ToString()), new State(e), null, static (s, _) => s.Event.Message);
        }
    }

    /// <summary>The structured state: what a formatter lists as the event's fields; the text is the message alone.</summary>
    private sealed class State(EngineEvent e) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public EngineEvent Event => e;

        public int Count => 5;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("Event", e.Kind.ToString()),
            1 => new("Model", e.Model),
            2 => new("Version", e.Version),
            3 => new("Message", e.Message),
            4 => new("{OriginalFormat}", "{Message}"),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => e.Message;
    }
}
