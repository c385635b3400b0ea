using System.Text.Json;
using StreamGrains.Events;

namespace StreamGrains.Context;

/// <summary>
/// <c>StreamGrains:Context:Kind</c> <c>File</c>: context from a file of JSON lines, <c>{"entity": "card-1", "attrs":
/// {"country": "NL"}}</c> a line (blank lines and lines starting with <c>#</c> are skipped). The file is read whole; it
/// is read again when a profile asks at least <see cref="RefreshInterval"/> after the last look and the file changed.
/// </summary>
public sealed class FileEntityContext : IEntityContextSource
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly Action<Exception>? _onReloadFailed;
    private readonly Lock _gate = new();
    private Dictionary<string, IReadOnlyDictionary<string, AttributeValue>> _contexts;
    private DateTime _lastWrite;
    private long _lastLook;

    /// <summary>Reads the file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="refreshInterval">How often to look for changes.</param>
    /// <param name="time">The clock.</param>
    /// <param name="onReloadFailed">Told when a changed file cannot be read (the last good contents stay).</param>
    /// <exception cref="FormatException">A line is not a context line; the message names the line.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public FileEntityContext(string path, TimeSpan refreshInterval, TimeProvider? time = null, Action<Exception>? onReloadFailed = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = path;
        RefreshInterval = refreshInterval;
        _time = time ?? TimeProvider.System;
        _onReloadFailed = onReloadFailed;
        _lastWrite = File.GetLastWriteTimeUtc(path);
        _contexts = Read(path);
        _lastLook = _time.GetTimestamp();
    }

    /// <inheritdoc />
    public TimeSpan RefreshInterval { get; }

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<string, AttributeValue>> LoadAsync(string entity, CancellationToken cancellationToken)
    {
        RefreshIfDue();
        return ValueTask.FromResult(_contexts.GetValueOrDefault(entity) ?? StreamEvent.EmptyAttributes);
    }

    /// <summary>Reads a context file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FormatException">A line is not a context line; the message names the line.</exception>
    public static Dictionary<string, IReadOnlyDictionary<string, AttributeValue>> Read(string path)
    {
        var contexts = new Dictionary<string, IReadOnlyDictionary<string, AttributeValue>>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            var text = line.Trim();
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("entity", out var entity) || entity.ValueKind != JsonValueKind.String ||
                    string.IsNullOrEmpty(entity.GetString()))
                {
                    throw new FormatException($"{path}, line {number}: a context line is {{\"entity\": \"...\", \"attrs\": {{...}}}}.");
                }

                contexts[entity.GetString()!] = root.TryGetProperty("attrs", out var attrs) ? EntityContextJson.ReadAttributes(attrs) : StreamEvent.EmptyAttributes;
            }
            catch (JsonException ex)
            {
                throw new FormatException($"{path}, line {number}: not JSON: {ex.Message}", ex);
            }
        }

        return contexts;
    }

    private void RefreshIfDue()
    {
        if (_time.GetElapsedTime(Volatile.Read(ref _lastLook)) < RefreshInterval)
        {
            return;
        }

        lock (_gate)
        {
            if (_time.GetElapsedTime(_lastLook) < RefreshInterval)
            {
                return;
            }

            Volatile.Write(ref _lastLook, _time.GetTimestamp());
            try
            {
                var lastWrite = File.GetLastWriteTimeUtc(_path);
                if (lastWrite != _lastWrite)
                {
                    _contexts = Read(_path);
                    _lastWrite = lastWrite;
                }
            }
            catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
            {
                _onReloadFailed?.Invoke(ex);
            }
        }
    }
}
