using System.Collections.Concurrent;
using Confluent.Kafka;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace StreamGrains.Kafka.Embedded;

/// <summary>
/// An in-process Kafka cluster for development, demos and tests: librdkafka's mock cluster, which speaks the real
/// Kafka wire protocol on loopback TCP, so any Kafka client (Confluent.Kafka, kcat, kafka-python) talks to it.
/// </summary>
/// <remarks>
/// <para>Everything lives in memory and is lost when the cluster is disposed or the process exits. Each partition keeps
/// at most about 5 MiB (older records are dropped and the low watermark moves up), so consumers must keep up.</para>
/// <para>The broker answers no CreateTopics request: create topics with <see cref="CreateTopic"/>. A topic that a client
/// names before it exists is created on the fly with four partitions.</para>
/// <para>Brokers are numbered from 1 to <see cref="BrokerCount"/>.</para>
/// </remarks>
public sealed unsafe class EmbeddedKafkaCluster : IDisposable
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, EmbeddedKafkaTopic> _topics = new(StringComparer.Ordinal);
    private nint _handle;
    private nint _cluster;

    private EmbeddedKafkaCluster(nint handle, nint cluster, int brokerCount, string bootstrapServers)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>The bootstrap servers of the cluster, e.g. <c>127.0.0.1:33577,127.0.0.1:43033</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>The number of brokers.</summary>
    public int BrokerCount { get; }

    /// <summary>The topics created through <see cref="CreateTopic"/>.</summary>
    public IReadOnlyCollection<EmbeddedKafkaTopic> Topics => _topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();

    /// <summary>The librdkafka file the cluster runs in (the one Confluent.Kafka loaded).</summary>
    public static string NativeLibraryPath => LibrdkafkaMock.LibraryPath;

    /// <summary>Starts a cluster of <paramref name="brokerCount"/> brokers listening on random loopback ports.</summary>
    /// <param name="brokerCount">The number of brokers, 1 to 32.</param>
    public static EmbeddedKafkaCluster Start(int brokerCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(brokerCount, 32);

        var api = LibrdkafkaMock.Api;
        var handle = LibrdkafkaMock.CreateHandle();
        var cluster = api.ClusterNew(handle, brokerCount);
        if (cluster == 0)
        {
            api.Destroy(handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed to start the embedded Kafka cluster.");
        }

        var bootstrap = LibrdkafkaMock.ReadString(api.ClusterBootstraps(cluster));
        return new EmbeddedKafkaCluster(handle, cluster, brokerCount, bootstrap);
    }

    /// <summary>Creates a topic (replication factor: the broker count, at most 3).</summary>
    /// <param name="name">The topic name.</param>
    /// <param name="partitions">The number of partitions, at least 1.</param>
    /// <exception cref="KafkaException">The broker refused the topic, e.g. because it exists with another partition count.</exception>
    public EmbeddedKafkaTopic CreateTopic(string name, int partitions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var replication = Math.Min(BrokerCount, 3);
        var nameBytes = LibrdkafkaMock.ToNullTerminated(name);
        int error;
        lock (_gate)
        {
            fixed (byte* topic = nameBytes)
            {
                error = LibrdkafkaMock.Api.TopicCreate(Cluster, topic, partitions, replication);
            }
        }

        Check(error, $"create topic '{name}' with {partitions} partitions");
        var created = new EmbeddedKafkaTopic(name, partitions);
        _topics[name] = created;
        return created;
    }

    /// <summary>Takes a broker down: it drops its connections and refuses new ones (no leader change).</summary>
    /// <param name="brokerId">The broker, 1 to <see cref="BrokerCount"/>, or -1 for every broker.</param>
    public void SetBrokerDown(int brokerId) => Check(Call(c => LibrdkafkaMock.Api.BrokerSetDown(c, CheckBroker(brokerId))), $"take broker {brokerId} down");

    /// <summary>Brings a broker back up.</summary>
    /// <param name="brokerId">The broker, 1 to <see cref="BrokerCount"/>, or -1 for every broker.</param>
    public void SetBrokerUp(int brokerId) => Check(Call(c => LibrdkafkaMock.Api.BrokerSetUp(c, CheckBroker(brokerId))), $"bring broker {brokerId} up");

    /// <summary>Delays every response of a broker by <paramref name="roundTripTime"/>.</summary>
    /// <param name="brokerId">The broker, 1 to <see cref="BrokerCount"/>, or -1 for every broker.</param>
    /// <param name="roundTripTime">The delay; zero removes it.</param>
    public void SetRoundTripTime(int brokerId, TimeSpan roundTripTime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTripTime, TimeSpan.Zero);
        var ms = checked((int)roundTripTime.TotalMilliseconds);
        Check(Call(c => LibrdkafkaMock.Api.BrokerSetRtt(c, CheckBroker(brokerId), ms)), $"set the round-trip time of broker {brokerId}");
    }

    /// <summary>Makes the next requests of one type fail, one error per request, in order.</summary>
    /// <param name="apiKey">The request type.</param>
    /// <param name="errors">The errors to answer with; <see cref="ErrorCode.Local_Transport"/> makes the broker disconnect.</param>
    public void PushRequestErrors(KafkaApiKey apiKey, params ErrorCode[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Length == 0)
        {
            return;
        }

        var codes = errors.Select(e => (int)e).ToArray();
        lock (_gate)
        {
            fixed (int* array = codes)
            {
                LibrdkafkaMock.Api.PushRequestErrorsArray(Cluster, (short)apiKey, (nuint)codes.Length, array);
            }
        }
    }

    /// <summary>Forgets request errors pushed for one request type that have not been answered yet.</summary>
    /// <param name="apiKey">The request type.</param>
    public void ClearRequestErrors(KafkaApiKey apiKey)
    {
        lock (_gate)
        {
            LibrdkafkaMock.Api.ClearRequestErrors(Cluster, (short)apiKey);
        }
    }

    /// <summary>Moves the leadership of a partition to another broker.</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="partition">The partition.</param>
    /// <param name="brokerId">The new leader, or -1 to leave the partition without a leader.</param>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        var nameBytes = LibrdkafkaMock.ToNullTerminated(topic);
        int error;
        lock (_gate)
        {
            fixed (byte* name = nameBytes)
            {
                error = LibrdkafkaMock.Api.PartitionSetLeader(Cluster, name, partition, CheckBroker(brokerId));
            }
        }

        Check(error, $"move the leader of {topic}[{partition}] to broker {brokerId}");
    }

    /// <summary>Makes metadata requests for a topic answer with an error (<see cref="ErrorCode.NoError"/> clears it).</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="error">The error.</param>
    public void SetTopicError(string topic, ErrorCode error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        var nameBytes = LibrdkafkaMock.ToNullTerminated(topic);
        lock (_gate)
        {
            fixed (byte* name = nameBytes)
            {
                LibrdkafkaMock.Api.TopicSetError(Cluster, name, (int)error);
            }
        }
    }

    /// <summary>Stops the brokers and frees everything they held.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != 0)
            {
                LibrdkafkaMock.Api.ClusterDestroy(_cluster);
                _cluster = 0;
            }

            if (_handle != 0)
            {
                LibrdkafkaMock.Api.Destroy(_handle);
                _handle = 0;
            }
        }
    }

    private nint Cluster => _cluster != 0 ? _cluster : throw new ObjectDisposedException(nameof(EmbeddedKafkaCluster));

    private int Call(Func<nint, int> call)
    {
        lock (_gate)
        {
            return call(Cluster);
        }
    }

    private int CheckBroker(int brokerId)
    {
        if (brokerId != -1 && (brokerId < 1 || brokerId > BrokerCount))
        {
            throw new ArgumentOutOfRangeException(nameof(brokerId), brokerId, $"Brokers are numbered 1 to {BrokerCount}, or -1 for all.");
        }

        return brokerId;
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            var code = (ErrorCode)error;
            throw new KafkaException(new Error(code, $"The embedded Kafka cluster could not {what}: {code.GetReason()}"));
        }
    }
}
