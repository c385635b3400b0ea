using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace StreamGrains.Kafka.Publishing;

/// <summary>
/// Records Kafka could not take yet, on local disk, in the order they were given: an append-only file of
/// <c>[length][crc32][key length][key][value]</c> records, written through (flushed to the device) before
/// <see cref="Append"/> returns, and a small file holding how far it has been sent. Survives a restart; a record torn by
/// a crash mid-write (its length or checksum does not match) ends the log, and a saved position that is not between two
/// records (the log was emptied and refilled, and the position's removal was lost) sends the log again from its start.
/// Not thread-safe: its owner locks.
/// </summary>
internal sealed class SpillLog : IDisposable
{
    private const int HeaderBytes = 8;
    private readonly string _path;
    private readonly string _positionPath;
    private readonly FileStream _file;
    private long _sent;

    public SpillLog(string directory)
    {
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, "spill.log");
        _positionPath = Path.Combine(directory, "spill.sent");
        try
        {
            // FileShare.None: an exclusive lock (flock on Linux), so that two producers never write one log.
            _file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"The spill log {_path} is in use by another producer: give each process its own spill directory.", ex);
        }

        var saved = File.Exists(_positionPath) && long.TryParse(File.ReadAllText(_positionPath), out var sent) ? sent : 0;
        var (valid, onBoundary) = Scan(saved);
        _file.SetLength(valid); // drop a record a crash tore
        _sent = onBoundary ? saved : 0; // a position that is not between two records is not ours (a lost reset): send all again
        if (IsEmpty)
        {
            Reset();
        }
    }

    /// <summary>The bytes <paramref name="records"/> take in the log.</summary>
    public static long SizeOf(IEnumerable<(string Key, byte[] Value)> records) =>
        records.Sum(r => (long)HeaderBytes + 4 + Encoding.UTF8.GetByteCount(r.Key) + r.Value.Length);

    /// <summary>Whether every record appended has been sent.</summary>
    public bool IsEmpty => _sent >= _file.Length;

    /// <summary>The bytes not sent yet.</summary>
    public long PendingBytes => _file.Length - _sent;

    /// <summary>The bytes on disk: sent or not, the log shrinks only once all of it is sent.</summary>
    public long FileBytes => _file.Length;

    /// <summary>Appends records, durably, in order; a failed append (disk full) leaves the log as it was.</summary>
    public void Append(IEnumerable<(string Key, byte[] Value)> records)
    {
        var before = _file.Seek(0, SeekOrigin.End);
        try
        {
            AppendAt(records);
        }
        catch (IOException)
        {
            _file.SetLength(before);
            throw;
        }
    }

    private void AppendAt(IEnumerable<(string Key, byte[] Value)> records)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        foreach (var (key, value) in records)
        {
            var keyBytes = Encoding.UTF8.GetBytes(key);
            var body = new byte[4 + keyBytes.Length + value.Length];
            BinaryPrimitives.WriteInt32LittleEndian(body, keyBytes.Length);
            keyBytes.CopyTo(body, 4);
            value.CopyTo(body, 4 + keyBytes.Length);
            BinaryPrimitives.WriteInt32LittleEndian(header, body.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32.HashToUInt32(body));
            _file.Write(header);
            _file.Write(body);
        }

        _file.Flush(flushToDisk: true);
    }

    /// <summary>The oldest records not sent yet, at most <paramref name="max"/>, each with the position after it (for <see cref="Sent"/>).</summary>
    public List<(string Key, byte[] Value, long End)> Peek(int max)
    {
        var records = new List<(string Key, byte[] Value, long End)>();
        _file.Seek(_sent, SeekOrigin.Begin);
        while (records.Count < max && TryRead(out var key, out var value))
        {
            records.Add((key, value, _file.Position));
        }

        return records;
    }

    /// <summary>Records that everything before <paramref name="next"/> was sent (acknowledged by Kafka); an emptied log starts over.</summary>
    public void Sent(long next)
    {
        _sent = next;
        if (IsEmpty)
        {
            Reset();
            return;
        }

        // Written through before it replaces the old one: after a power cut the position is the new one or the old one
        // (which sends a few records twice), never a torn or empty file.
        var temporary = _positionPath + ".tmp";
        using (var position = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            position.Write(Encoding.ASCII.GetBytes(_sent.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            position.Flush(flushToDisk: true);
        }

        File.Move(temporary, _positionPath, overwrite: true);
    }

    public void Dispose() => _file.Dispose();

    private void Reset()
    {
        _file.SetLength(0);
        _file.Flush(flushToDisk: true);
        _sent = 0;
        File.Delete(_positionPath);
    }

    /// <summary>The length of the log's whole records from the start, and whether <paramref name="position"/> lies between two of them.</summary>
    private (long Valid, bool OnBoundary) Scan(long position)
    {
        _file.Seek(0, SeekOrigin.Begin);
        var valid = 0L;
        var onBoundary = position == 0;
        while (TryRead(out _, out _))
        {
            valid = _file.Position;
            onBoundary |= valid == position;
        }

        return (valid, onBoundary);
    }

    private bool TryRead(out string key, out byte[] value)
    {
        key = string.Empty;
        value = [];
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (_file.Read(header) != HeaderBytes)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 4 || length > _file.Length - _file.Position)
        {
            return false;
        }

        var body = new byte[length];
        _file.ReadExactly(body);
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(body);
        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) || keyLength < 0 || keyLength > length - 4)
        {
            return false;
        }

        key = Encoding.UTF8.GetString(body, 4, keyLength);
        value = body[(4 + keyLength)..];
        return true;
    }
}
