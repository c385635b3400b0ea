using Orleans.Runtime;
using Orleans.Streams;
using StreamGrains.Events;
using StreamGrains.Kafka.Providers;
using StreamGrains.Profiles;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Profiles;

/// <summary>Where events sit, as the Kafka provider says: its sequence tokens, its queue ownership, its request context.</summary>
internal sealed class KafkaStreamPositions(KafkaAdapterFactoryRegistry providers, KafkaEnvironment kafka, ILocalSiloDetails silo, PartitionOwnerCache owners) : IStreamPositions
{
    private KafkaAdapterFactory? _provider;

    public string LocalReader { get; } = silo.SiloAddress.ToParsableString();

    public bool TryLocate(StreamSequenceToken? token, out int partition, out long offset)
    {
        if (token is KafkaSequenceToken kafka)
        {
            partition = kafka.Partition;
            offset = kafka.Offset;
            return true;
        }

        partition = -1;
        offset = -1;
        return false;
    }

    /// <summary>
    /// As the placement director sees it: the partition directory's owner when it names one (during a handover the old
    /// reader still reads a while, but the directory names the new one already: a grain here then follows, where asking
    /// only the local reader kept it here for good once the reader let go), else whether this silo reads it.
    /// </summary>
    public bool IsReadHere(int partition) =>
        owners.OwnerOf(kafka.InputTopic, partition) is { } owner
            ? owner.Equals(silo.SiloAddress)
            : Provider() is not { } provider || provider.IsReading(kafka.InputTopic, partition);

    public bool IsDeliveredFromElsewhere() =>
        Orleans.Runtime.RequestContext.Get(KafkaBatchContainer.ReaderKey) is string reader && Provider() is { } provider && reader != provider.OwnerName;

    public DateTimeOffset? CurrentRecordTimestamp() =>
        Orleans.Runtime.RequestContext.Get(KafkaBatchContainer.RecordTimestampKey) is long ms and > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private KafkaAdapterFactory? Provider() => _provider ??= providers.Get(StreamNames.Provider);
}
