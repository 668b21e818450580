using System.Collections.Frozen;
using System.Diagnostics;
using System.Text;
using LowLatency.Engine.Config;
using LowLatency.Gateway.Config;
using LowLatency.Gateway.Routing;

namespace LowLatency.Gateway;

/// <summary>
/// The aliases of a model repository (<see cref="AliasFile"/>) and the timer that re-weights them.
/// The alias table is published by one reference swap: a reload builds new routers (their
/// measurements start afresh) and requests read whichever table is current, without a lock. A file
/// that does not validate is refused whole and the table in force stays.
/// </summary>
public sealed class ModelGateway : IDisposable
{
    // The timer's own period: each alias ticks on its own tick_milliseconds, checked at this granularity.
    private const int TimerMilliseconds = 10;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly string _repository;
    private readonly long _pollUs;
    private readonly Lock _reload = new();
    private readonly Timer? _timer;
    private volatile FrozenDictionary<string, AliasRouter> _aliases;
    private DateTime _fileWritten;
    private long _nextPollUs;
    private int _ticking;

    /// <summary>
    /// Reads the repository's aliases (throws <see cref="ModelConfigException"/> on an invalid file,
    /// which refuses the server's start like a bad config.json). <paramref name="pollSeconds"/>:
    /// re-read the file when it changes, as the repository poll does (null: only on <see cref="Reload"/>).
    /// <paramref name="startTimer"/> false leaves ticking to the caller (tests with a clock of their own).
    /// </summary>
    public ModelGateway(string repository, double? pollSeconds, bool startTimer = true)
    {
        _repository = repository;
        _pollUs = pollSeconds is { } s ? (long)(s * 1_000_000) : 0;
        _fileWritten = WrittenAt();
        _aliases = Build(AliasFile.Read(repository));
        if (startTimer)
        {
            _timer = new Timer(_ => OnTimer(), null, TimerMilliseconds, TimerMilliseconds);
        }
    }

    public static long NowMicroseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    /// <summary>The alias called <paramref name="name"/>, if there is one (request path: one lookup, no allocation).</summary>
    public bool TryGet(string name, out AliasRouter router)
    {
        var aliases = _aliases;
        if (aliases.Count == 0)
        {
            router = null!;
            return false;
        }

        return aliases.TryGetValue(name, out router!);
    }

    /// <summary>The aliases served now, by name.</summary>
    public IReadOnlyCollection<AliasRouter> Aliases => _aliases.Values;

    /// <summary>Reads the alias file again; on an invalid file the table in force stays and the error (naming file and field) is returned.</summary>
    public string? Reload()
    {
        lock (_reload)
        {
            try
            {
                _fileWritten = WrittenAt();
                var previous = _aliases;
                _aliases = Build(AliasFile.Read(_repository));
                Retire(previous);
                return null;
            }
            catch (ModelConfigException e)
            {
                return e.Message;
            }
        }
    }

    /// <summary>
    /// Replaces the alias file with <paramref name="content"/> (the whole file, UTF-8, as the
    /// repository API receives it): validated as the file is at start (and by <see cref="AliasApiPolicy"/>), then written in the repository
    /// (<see cref="AliasFile.Replace"/>: it survives a restart) and the table swapped as
    /// <see cref="Reload"/> swaps it. A document that does not validate changes nothing, and its error,
    /// naming the field, is returned. A file that cannot be written throws IOException or
    /// UnauthorizedAccessException, the table in force unchanged.
    /// </summary>
    public string? Replace(byte[] content)
    {
        string text;
        try
        {
            // The file may start with a byte order mark, as File.ReadAllText allows when it reads it.
            int bom = content.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
            text = StrictUtf8.GetString(content, bom, content.Length - bom);
        }
        catch (DecoderFallbackException)
        {
            return $"{AliasFile.PathIn(_repository)}: is not UTF-8 text";
        }

        lock (_reload)
        {
            return ReplaceHeld(text, content);
        }
    }

    /// <summary>
    /// Sets alias <paramref name="name"/> to <paramref name="definition"/> (its JSON object, UTF-8), or
    /// removes it when null, keeping the file's other aliases; then as <see cref="Replace"/>, the
    /// whole file validated. <paramref name="found"/> false: a removal named an alias the file has not,
    /// and was refused. Reading the file and writing it back under one lock: two edits of
    /// different aliases both stay.
    /// </summary>
    public string? ReplaceAlias(string name, byte[]? definition, out bool found)
    {
        found = true;
        string? body = null;
        if (definition is not null)
        {
            try
            {
                body = StrictUtf8.GetString(definition);
            }
            catch (DecoderFallbackException)
            {
                return $"{AliasFile.PathIn(_repository)}: field 'aliases.{name}': is not UTF-8 text";
            }
        }

        lock (_reload)
        {
            byte[] content;
            bool had;
            try
            {
                content = AliasFileEdit.With(AliasFile.PathIn(_repository), StoredText(), name, body, out had);
            }
            catch (ModelConfigException e)
            {
                return e.Message;
            }

            found = had || definition is not null;
            if (!found)
            {
                return $"{AliasFile.PathIn(_repository)}: has no alias {ClientText.Quoted(name)}";
            }

            return ReplaceHeld(StrictUtf8.GetString(content), content);
        }
    }

    /// <summary>The validation, write and swap of <see cref="Replace"/>, with the reload lock held.</summary>
    private string? ReplaceHeld(string text, byte[] content)
    {
        IReadOnlyList<AliasDefinition> definitions;
        try
        {
            // Before the reader, which reads the variables and PEM files the document names.
            AliasApiPolicy.Check(_repository, text, StoredText());
            definitions = AliasFile.ParseIn(_repository, text);
        }
        catch (ModelConfigException e)
        {
            return e.Message;
        }

        // Built before the write, so that the file is written only once the table it makes exists.
        var next = Build(definitions);
        try
        {
            AliasFile.Replace(_repository, content);
        }
        catch
        {
            foreach (var alias in next.Values)
            {
                alias.Dispose();
            }

            throw;
        }

        _fileWritten = WrittenAt();
        var previous = _aliases;
        _aliases = next;
        Retire(previous);
        return null;
    }

    /// <summary>The alias file's bytes as the repository holds them; null when it has none.</summary>
    public byte[]? StoredFile()
    {
        try
        {
            return File.ReadAllBytes(AliasFile.PathIn(_repository));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private string? StoredText()
    {
        try
        {
            return File.ReadAllText(AliasFile.PathIn(_repository));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>One pass of the timer: every alias whose tick is due re-weights; the file is polled when due.</summary>
    public void Tick(long nowUs)
    {
        foreach (var alias in _aliases.Values)
        {
            alias.Tick(nowUs);
        }

        if (_pollUs > 0 && nowUs >= _nextPollUs)
        {
            _nextPollUs = nowUs + _pollUs;
            if (WrittenAt() != _fileWritten)
            {
                // An invalid file keeps the table in force; the explicit reload route says why.
                Reload();
            }
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        foreach (var alias in _aliases.Values)
        {
            alias.Dispose();
        }
    }

    /// <summary>
    /// Closes the remote connections of aliases a reload replaced, once the requests that read the
    /// old table have had their whole deadline (and a second) to end: nothing counts them, and a
    /// request still holding an alias past its deadline has been answered already.
    /// </summary>
    private static void Retire(FrozenDictionary<string, AliasRouter> previous)
    {
        double waitMs = 0;
        foreach (var alias in previous.Values)
        {
            waitMs = Math.Max(waitMs, alias.Definition.DeadlineMilliseconds);
        }

        if (previous.Count > 0)
        {
            _ = Task.Delay(TimeSpan.FromMilliseconds(waitMs + 1000)).ContinueWith(
                _ =>
                {
                    foreach (var alias in previous.Values)
                    {
                        alias.Dispose();
                    }
                },
                TaskScheduler.Default);
        }
    }

    private void OnTimer()
    {
        // A pass that overruns the period is not run twice at once: ticks are single-threaded.
        if (Interlocked.Exchange(ref _ticking, 1) == 1)
        {
            return;
        }

        try
        {
            Tick(NowMicroseconds());
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    private DateTime WrittenAt()
    {
        string path = AliasFile.PathIn(_repository);
        return File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
    }

    private static FrozenDictionary<string, AliasRouter> Build(IReadOnlyList<AliasDefinition> definitions)
    {
        var routers = new Dictionary<string, AliasRouter>(StringComparer.Ordinal);
        foreach (var d in definitions)
        {
            routers[d.Name] = new AliasRouter(d);
        }

        return routers.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
