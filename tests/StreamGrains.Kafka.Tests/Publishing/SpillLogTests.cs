using System.Text;
using StreamGrains.Kafka.Publishing;

namespace StreamGrains.Kafka.Tests.Publishing;

public sealed class SpillLogTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("sg-spill-");

    [Fact]
    public void Records_come_back_in_order_in_batches_and_an_emptied_log_starts_over()
    {
        using var log = new SpillLog(_directory.FullName);
        Assert.True(log.IsEmpty);
        log.Append(Records(0, 5));
        log.Append(Records(5, 3));
        Assert.False(log.IsEmpty);

        var first = log.Peek(6);
        Assert.Equal(Keys(0, 6), first.Select(r => r.Key));
        Assert.Equal("value-3", Encoding.UTF8.GetString(first[3].Value));
        log.Sent(first[^1].End);

        var rest = log.Peek(100);
        Assert.Equal(Keys(6, 2), rest.Select(r => r.Key));
        log.Sent(rest[^1].End);
        Assert.True(log.IsEmpty);
        Assert.Equal(0, new FileInfo(Path.Combine(_directory.FullName, "spill.log")).Length);
    }

    [Fact]
    public void What_was_not_sent_survives_a_restart_and_a_torn_last_record_is_dropped()
    {
        using (var log = new SpillLog(_directory.FullName))
        {
            log.Append(Records(0, 4));
            log.Sent(log.Peek(1)[0].End);
        }

        // A crash in the middle of a write: half a record at the end.
        using (var file = new FileStream(Path.Combine(_directory.FullName, "spill.log"), FileMode.Append))
        {
            file.Write([40, 0, 0, 0, 1, 2, 3]);
        }

        using var reopened = new SpillLog(_directory.FullName);
        Assert.Equal(Keys(1, 3), reopened.Peek(100).Select(r => r.Key));
        reopened.Append(Records(4, 1));
        Assert.Equal(Keys(1, 4), reopened.Peek(100).Select(r => r.Key));
    }

    [Fact]
    public void A_record_whose_checksum_does_not_match_ends_the_log()
    {
        using (var log = new SpillLog(_directory.FullName))
        {
            log.Append(Records(0, 3));
        }

        var path = Path.Combine(_directory.FullName, "spill.log");
        var bytes = File.ReadAllBytes(path);
        var second = 8 + BitConverter.ToInt32(bytes, 0); // the second record's header
        bytes[second + 8 + 5] ^= 0xFF; // flip a byte of its body
        File.WriteAllBytes(path, bytes);

        using var reopened = new SpillLog(_directory.FullName);
        Assert.Equal(Keys(0, 1), reopened.Peek(100).Select(r => r.Key));
    }

    [Fact]
    public void A_saved_position_that_is_not_between_two_records_sends_the_log_from_its_start()
    {
        using (var log = new SpillLog(_directory.FullName))
        {
            log.Append(Records(0, 3));
            log.Sent(log.Peek(1)[0].End);
        }

        File.WriteAllText(Path.Combine(_directory.FullName, "spill.sent"), "5"); // inside the first record

        using var reopened = new SpillLog(_directory.FullName);
        Assert.Equal(Keys(0, 3), reopened.Peek(100).Select(r => r.Key));
    }

    [Fact]
    public void A_second_producer_on_the_same_directory_is_refused_naming_the_log()
    {
        using (var first = new SpillLog(_directory.FullName))
        {
            first.Append(Records(0, 1));
            var refused = Assert.Throws<IOException>(() => new SpillLog(_directory.FullName));
            Assert.Contains(Path.Combine(_directory.FullName, "spill.log"), refused.Message);
        }

        using var reopened = new SpillLog(_directory.FullName); // once the first is closed
        Assert.Equal(Keys(0, 1), reopened.Peek(10).Select(r => r.Key));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static List<(string Key, byte[] Value)> Records(int from, int count) =>
        Enumerable.Range(from, count).Select(i => ($"key-{i}", Encoding.UTF8.GetBytes($"value-{i}"))).ToList();

    private static IEnumerable<string> Keys(int from, int count) => Enumerable.Range(from, count).Select(i => $"key-{i}");
}
