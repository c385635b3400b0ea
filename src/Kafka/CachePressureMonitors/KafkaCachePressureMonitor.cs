namespace StreamGrains.Kafka.CachePressureMonitors;

/// <summary>
/// Decides when a partition's cache is under pressure: when records not yet delivered to every consumer fill most of
/// it, by count or by bytes. Under pressure the pulling agent stops reading the partition (librdkafka's bounded
/// prefetch then stops fetching), so memory stays bounded however slow the consumers are.
/// </summary>
internal sealed class KafkaCachePressureMonitor(int maxRecords, long maxBytes)
{
    /// <summary>The share of the cache that undelivered records may fill before reading pauses.</summary>
    public const double Threshold = 0.9;

    private readonly int _recordLimit = Math.Max(1, (int)(maxRecords * Threshold));
    private readonly long _byteLimit = Math.Max(1, (long)(maxBytes * Threshold));

    public bool UnderPressure { get; private set; }

    /// <summary>Records how much undelivered data the cache holds; returns whether it is under pressure.</summary>
    public bool Record(int undeliveredRecords, long undeliveredBytes)
    {
        UnderPressure = undeliveredRecords >= _recordLimit || undeliveredBytes >= _byteLimit;
        return UnderPressure;
    }
}
