using System.Text.Json;

namespace StreamGrains.Kafka.Statistics;

/// <summary>
/// Whether this silo can read a partition it owns, from librdkafka's statistics (every
/// <see cref="KafkaStreamOptions.StatisticsInterval"/>): readable while the partition's leader broker is up and the
/// consumer fetches from it. It also keeps the partition's last known high watermark and when it was seen, so that lag
/// stays true while the leader is away (it only grows older) rather than falling to zero.
/// </summary>
internal sealed class KafkaPartitionHealth
{
    private readonly Lock _gate = new();
    private DateTime _ownedSinceUtc;
    private DateTime _lastReadableUtc;
    private long _highWatermark = -1;
    private DateTime _highWatermarkUtc;
    private long _fetchPosition = -1;

    /// <summary>The states a partition this silo owns can be in.</summary>
    public const string Starting = "starting";

    /// <inheritdoc cref="Starting"/>
    public const string Reading = "reading";

    /// <inheritdoc cref="Starting"/>
    public const string Unreadable = "unreadable";

    /// <summary>Starts a new ownership: nothing is known yet.</summary>
    public void Reset(DateTime nowUtc)
    {
        lock (_gate)
        {
            _ownedSinceUtc = nowUtc;
            _lastReadableUtc = default;
            _highWatermark = -1;
            _highWatermarkUtc = default;
            _fetchPosition = -1;
        }
    }

    /// <summary>The last known high watermark and when it was seen, or (-1, default).</summary>
    public (long Offset, DateTime SeenUtc) HighWatermark
    {
        get
        {
            lock (_gate)
            {
                return (_highWatermark, _highWatermarkUtc);
            }
        }
    }

    /// <summary>The consumer's fetch position, or -1.</summary>
    public long FetchPosition
    {
        get
        {
            lock (_gate)
            {
                return _fetchPosition;
            }
        }
    }

    /// <summary><see cref="Starting"/>, <see cref="Reading"/> or <see cref="Unreadable"/>.</summary>
    /// <param name="nowUtc">Now.</param>
    /// <param name="unreadableAfter">How long without a readable observation makes the partition unreadable.</param>
    public string State(DateTime nowUtc, TimeSpan unreadableAfter)
    {
        lock (_gate)
        {
            if (_lastReadableUtc == default)
            {
                return nowUtc - _ownedSinceUtc > unreadableAfter ? Unreadable : Starting;
            }

            return nowUtc - _lastReadableUtc > unreadableAfter ? Unreadable : Reading;
        }
    }

    /// <summary>Takes one statistics report of the consumer that reads <paramref name="topic"/>[<paramref name="partition"/>].</summary>
    public void Observe(string statisticsJson, string topic, int partition, DateTime nowUtc)
    {
        if (Parse(statisticsJson, topic, partition) is { } report)
        {
            Observe(report, nowUtc);
        }
    }

    /// <summary>Takes what one statistics report says about this partition.</summary>
    public void Observe((bool Readable, long HighWatermark, long FetchPosition) report, DateTime nowUtc)
    {
        lock (_gate)
        {
            if (report.FetchPosition >= 0)
            {
                _fetchPosition = report.FetchPosition;
            }

            if (report.Readable)
            {
                _lastReadableUtc = nowUtc;
                if (report.HighWatermark >= 0)
                {
                    _highWatermark = report.HighWatermark;
                    _highWatermarkUtc = nowUtc;
                }
            }
        }
    }

    /// <summary>What one statistics report says about a partition, or null if it does not mention it.</summary>
    internal static (bool Readable, long HighWatermark, long FetchPosition)? Parse(string statisticsJson, string topic, int partition) =>
        ParseAll(statisticsJson, topic, [partition]).Select(p => ((bool, long, long)?)p.Report).FirstOrDefault();

    /// <summary>What one statistics report says about each of <paramref name="partitions"/> that it mentions.</summary>
    internal static List<(int Partition, (bool Readable, long HighWatermark, long FetchPosition) Report)> ParseAll(string statisticsJson, string topic, IEnumerable<int> partitions)
    {
        var found = new List<(int, (bool, long, long))>();
        try
        {
            using var document = JsonDocument.Parse(statisticsJson);
            var root = document.RootElement;
            if (!root.TryGetProperty("topics", out var topics) || !topics.TryGetProperty(topic, out var topicStats) ||
                !topicStats.TryGetProperty("partitions", out var partitionStats))
            {
                return found;
            }

            foreach (var partition in partitions)
            {
                if (partitionStats.TryGetProperty(partition.ToString(System.Globalization.CultureInfo.InvariantCulture), out var stats))
                {
                    found.Add((partition, Report(root, stats)));
                }
            }

            return found;
        }
        catch (JsonException)
        {
            return found;
        }
    }

    private static (bool Readable, long HighWatermark, long FetchPosition) Report(JsonElement root, JsonElement stats)
    {
        {

            var leader = stats.TryGetProperty("leader", out var l) ? l.GetInt32() : -1;
            var fetchState = stats.TryGetProperty("fetch_state", out var f) ? f.GetString() : null;
            var high = stats.TryGetProperty("hi_offset", out var h) ? h.GetInt64() : -1;
            var next = stats.TryGetProperty("next_offset", out var n) ? n.GetInt64() : -1;
            var leaderUp = false;
            if (leader >= 0 && root.TryGetProperty("brokers", out var brokers))
            {
                foreach (var broker in brokers.EnumerateObject())
                {
                    if (broker.Value.TryGetProperty("nodeid", out var id) && id.GetInt32() == leader)
                    {
                        leaderUp = broker.Value.TryGetProperty("state", out var state) && state.GetString() == "UP";
                        break;
                    }
                }
            }

            return (leaderUp && fetchState == "active", high, next);
        }
    }
}
