using System.Buffers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using StreamGrains.Aggregations;
using StreamGrains.Outputs;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Aggregations;

/// <summary>
/// Publishes what aggregations produce, keyed by group key, through one idempotent producer (acks=all): final windows
/// to <c>Kafka:AggregatesTopic</c>, closed sessions to <c>Kafka:SessionsTopic</c>, and late events, unchanged (key,
/// value and headers as read) plus the headers <c>sg-aggregation</c> and <c>sg-late-reason</c>, to <c>Kafka:LateTopic</c>.
/// With PostgreSQL storage, final windows and closed sessions also become rows (<c>AggregateTables</c>).
/// </summary>
internal sealed partial class KafkaAggregationOutput : IAggregationOutput, IDisposable
{
    /// <summary>The header naming the aggregation an event was late for.</summary>
    public const string AggregationHeader = "sg-aggregation";

    /// <summary>The header saying why: <c>window-closed</c> or <c>future-skew</c>.</summary>
    public const string ReasonHeader = "sg-late-reason";

    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly string _aggregatesTopic;
    private readonly string _sessionsTopic;
    private readonly string _lateTopic;
    private readonly ILogger<KafkaAggregationOutput> _logger;
    private readonly Action<DeliveryReport<byte[]?, byte[]?>> _onDelivery;
    private long _failed;
    private int _disposed;

    private readonly StreamGrains.Storage.Aggregations.AggregateTables? _tables;

    public KafkaAggregationOutput(KafkaEnvironment kafka, ILogger<KafkaAggregationOutput> logger, StreamGrains.Storage.Aggregations.AggregateTables? tables = null)
    {
        _tables = tables;
        var config = KafkaOutputs.ProducerConfig(kafka, "streamgrains-aggregations");
        config.LingerMs = 2;
        _producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
        _aggregatesTopic = kafka.AggregatesTopic;
        _sessionsTopic = kafka.SessionsTopic;
        _lateTopic = kafka.LateTopic;
        _logger = logger;
        _onDelivery = report =>
        {
            if (report.Error.IsError && Interlocked.Increment(ref _failed) is var failed && (failed & (failed - 1)) == 0)
            {
                LogDeliveryFailed(_logger, report.Topic, failed, report.Error.Reason);
            }
        };
    }

    public void Final(AggregationDefinition definition, AggregationResult result, UnacknowledgedOutputs unacknowledged)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(unacknowledged);
        _tables?.Add(definition.Name, result, unacknowledged);
        var key = Encoding.UTF8.GetBytes(result.Key);
        if (result.Window is { } window)
        {
            Produce(_aggregatesTopic, new Message<byte[]?, byte[]?> { Key = key, Value = AggregationJson.Window(definition.Name, result.Key, AggregationResult.View(result.StartMs, result.EndMs, window, final: true)) }, unacknowledged);
        }
        else if (result.Session is { } session)
        {
            Produce(_sessionsTopic, new Message<byte[]?, byte[]?> { Key = key, Value = AggregationJson.Session(definition.Name, result.Key, AggregationResult.View(session, closed: true)) }, unacknowledged);
        }
    }

    /// <summary>Publishes a late event as it was read, with the aggregation and the reason in headers.</summary>
    public void Late(byte[]? key, byte[]? value, Headers? headers, string aggregation, LateReason reason)
    {
        var copy = new Headers();
        foreach (var header in headers ?? [])
        {
            copy.Add(header.Key, header.GetValueBytes());
        }

        copy.Add(AggregationHeader, Encoding.UTF8.GetBytes(aggregation));
        copy.Add(ReasonHeader, Encoding.UTF8.GetBytes(reason == LateReason.FutureSkew ? "future-skew" : "window-closed"));
        Produce(_lateTopic, new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = copy });
    }

    public void Dispose()
    {
        // Once: the container disposes it both as itself and as the interface it is also registered under (a second
        // Flush on the destroyed handle threw and aborted the silo's graceful stop).
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }

    private void Produce(string topic, Message<byte[]?, byte[]?> message) => KafkaOutputs.Produce(_producer, topic, message, _onDelivery);

    private void Produce(string topic, Message<byte[]?, byte[]?> message, UnacknowledgedOutputs unacknowledged)
    {
        KafkaOutputs.Produce(_producer, topic, message, _onDelivery, unacknowledged);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An aggregation output to {Topic} could not be published ({Failures} so far): {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string topic, long failures, string reason);
}

/// <summary>The JSON of the <c>aggregates</c> and <c>sessions</c> records.</summary>
internal static class AggregationJson
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary><c>{"aggregation", "key", "windowStart", "windowEnd", "count", "sum", "min", "max", "avg", "distinctEntities", "p50", "p95", "p99", "final"}</c>.</summary>
    public static byte[] Window(string aggregation, string key, AggregateWindow window) =>
        Write((aggregation, key, window), static (writer, w) =>
        {
            writer.WriteString("aggregation", w.aggregation);
            writer.WriteString("key", w.key);
            writer.WriteString("windowStart", w.window.Start);
            writer.WriteString("windowEnd", w.window.End);
            writer.WriteNumber("count", w.window.Count);
            Number(writer, "sum", w.window.Sum);
            Number(writer, "min", w.window.Min);
            Number(writer, "max", w.window.Max);
            Number(writer, "avg", w.window.Avg);
            writer.WriteNumber("distinctEntities", w.window.DistinctEntities);
            Number(writer, "p50", w.window.P50);
            Number(writer, "p95", w.window.P95);
            Number(writer, "p99", w.window.P99);
            writer.WriteBoolean("final", w.window.Final);
        });

    /// <summary><c>{"aggregation", "key", "start", "end", "count", "durationMs", "types"}</c>.</summary>
    public static byte[] Session(string aggregation, string key, SessionView session) =>
        Write((aggregation, key, session), static (writer, s) =>
        {
            writer.WriteString("aggregation", s.aggregation);
            writer.WriteString("key", s.key);
            writer.WriteString("start", s.session.Start);
            writer.WriteString("end", s.session.End);
            writer.WriteNumber("count", s.session.Count);
            writer.WriteNumber("durationMs", s.session.DurationMs);
            writer.WriteStartArray("types");
            foreach (var type in s.session.Types)
            {
                writer.WriteStringValue(type);
            }

            writer.WriteEndArray();
        });

    /// <summary>
    /// One JSON object, written with this thread's buffer and writer, reset for each record: a burst of final windows
    /// allocates only their bytes.
    /// </summary>
    private static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> fields)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        writer.WriteStartObject();
        fields(writer, state);
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void Number(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
