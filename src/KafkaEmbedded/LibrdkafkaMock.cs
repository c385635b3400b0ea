using System.Runtime.InteropServices;
using System.Text;

namespace StreamGrains.Kafka.Embedded;

/// <summary>
/// Entry points of librdkafka's mock cluster (<c>rdkafka_mock.h</c>), bound to the very library file that
/// Confluent.Kafka loaded, so that both share one copy of librdkafka in the process.
/// </summary>
internal static unsafe class LibrdkafkaMock
{
    private const int ErrorBufferSize = 512;
    private const int ProducerHandleType = 0; // RD_KAFKA_PRODUCER

    private static readonly Lazy<Exports> LazyExports = new(Bind, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static Exports Api => LazyExports.Value;

    /// <summary>The path of the librdkafka file loaded in this process.</summary>
    internal static string LibraryPath => Api.LibraryPath;

    internal sealed class Exports
    {
        public required string LibraryPath { get; init; }
        public required delegate* unmanaged<nint> ConfNew { get; init; }
        public required delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int> ConfSet { get; init; }
        public required delegate* unmanaged<int, nint, byte*, nuint, nint> New { get; init; }
        public required delegate* unmanaged<nint, void> Destroy { get; init; }
        public required delegate* unmanaged<nint, int, nint> ClusterNew { get; init; }
        public required delegate* unmanaged<nint, void> ClusterDestroy { get; init; }
        public required delegate* unmanaged<nint, byte*> ClusterBootstraps { get; init; }
        public required delegate* unmanaged<nint, byte*, int, int, int> TopicCreate { get; init; }
        public required delegate* unmanaged<nint, int, int> BrokerSetDown { get; init; }
        public required delegate* unmanaged<nint, int, int> BrokerSetUp { get; init; }
        public required delegate* unmanaged<nint, int, int, int> BrokerSetRtt { get; init; }
        public required delegate* unmanaged<nint, short, nuint, int*, void> PushRequestErrorsArray { get; init; }
        public required delegate* unmanaged<nint, short, void> ClearRequestErrors { get; init; }
        public required delegate* unmanaged<nint, byte*, int, int, int> PartitionSetLeader { get; init; }
        public required delegate* unmanaged<nint, byte*, int, void> TopicSetError { get; init; }
    }

    /// <summary>Creates a producer handle with an empty configuration, as the mock cluster needs one for bookkeeping.</summary>
    internal static nint CreateHandle()
    {
        var api = Api;
        var conf = api.ConfNew();
        var errors = stackalloc byte[ErrorBufferSize];
        // Only errors: the handle has no bootstrap servers on purpose and would warn about it.
        SetConf(conf, "log_level", "3", errors);
        var handle = api.New(ProducerHandleType, conf, errors, ErrorBufferSize);
        if (handle == 0)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {ReadString(errors)}");
        }

        return handle;
    }

    private static void SetConf(nint conf, string name, string value, byte* errors)
    {
        var nameBytes = ToNullTerminated(name);
        var valueBytes = ToNullTerminated(value);
        fixed (byte* n = nameBytes, v = valueBytes)
        {
            var result = Api.ConfSet(conf, n, v, errors, ErrorBufferSize);
            if (result != 0)
            {
                throw new InvalidOperationException($"rd_kafka_conf_set({name}) failed: {ReadString(errors)}");
            }
        }
    }

    internal static byte[] ToNullTerminated(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    internal static string ReadString(byte* value) => Marshal.PtrToStringUTF8((nint)value) ?? string.Empty;

    private static Exports Bind()
    {
        var path = FindLoadedLibrary();
        var library = NativeLibrary.Load(path);
        nint Export(string name) => NativeLibrary.TryGetExport(library, name, out var address)
            ? address
            : throw new EntryPointNotFoundException($"{name} is not exported by {path}; librdkafka 2.x with the mock cluster is required.");

        return new Exports
        {
            LibraryPath = path,
            ConfNew = (delegate* unmanaged<nint>)Export("rd_kafka_conf_new"),
            ConfSet = (delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int>)Export("rd_kafka_conf_set"),
            New = (delegate* unmanaged<int, nint, byte*, nuint, nint>)Export("rd_kafka_new"),
            Destroy = (delegate* unmanaged<nint, void>)Export("rd_kafka_destroy"),
            ClusterNew = (delegate* unmanaged<nint, int, nint>)Export("rd_kafka_mock_cluster_new"),
            ClusterDestroy = (delegate* unmanaged<nint, void>)Export("rd_kafka_mock_cluster_destroy"),
            ClusterBootstraps = (delegate* unmanaged<nint, byte*>)Export("rd_kafka_mock_cluster_bootstraps"),
            TopicCreate = (delegate* unmanaged<nint, byte*, int, int, int>)Export("rd_kafka_mock_topic_create"),
            BrokerSetDown = (delegate* unmanaged<nint, int, int>)Export("rd_kafka_mock_broker_set_down"),
            BrokerSetUp = (delegate* unmanaged<nint, int, int>)Export("rd_kafka_mock_broker_set_up"),
            BrokerSetRtt = (delegate* unmanaged<nint, int, int, int>)Export("rd_kafka_mock_broker_set_rtt"),
            PushRequestErrorsArray = (delegate* unmanaged<nint, short, nuint, int*, void>)Export("rd_kafka_mock_push_request_errors_array"),
            ClearRequestErrors = (delegate* unmanaged<nint, short, void>)Export("rd_kafka_mock_clear_request_errors"),
            PartitionSetLeader = (delegate* unmanaged<nint, byte*, int, int, int>)Export("rd_kafka_mock_partition_set_leader"),
            TopicSetError = (delegate* unmanaged<nint, byte*, int, void>)Export("rd_kafka_mock_topic_set_error"),
        };
    }

    /// <summary>
    /// Makes Confluent.Kafka load librdkafka (it probes several builds and keeps the first that loads), then
    /// reads the path of the file it chose from the process' memory map.
    /// </summary>
    private static string FindLoadedLibrary()
    {
        _ = Confluent.Kafka.Library.Version; // forces Confluent.Kafka to load its native library

        const string mapsFile = "/proc/self/maps";
        if (File.Exists(mapsFile))
        {
            foreach (var line in File.ReadLines(mapsFile))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash < 0)
                {
                    continue;
                }

                var candidate = line[slash..].Trim();
                if (Path.GetFileName(candidate).Contains("librdkafka", StringComparison.Ordinal))
                {
                    return candidate;
                }
            }
        }

        throw new PlatformNotSupportedException(
            "Could not find the librdkafka file that Confluent.Kafka loaded (looked in /proc/self/maps). " +
            "The embedded Kafka broker runs on Linux only; use an external Kafka elsewhere.");
    }
}
