using Confluent.Kafka;
using StreamGrains.Outputs;

namespace StreamGrains.Silo.Kafka;

/// <summary>
/// How the platform's outputs (decisions, enriched events, final windows, closed sessions, late events) are written
/// without losing any: librdkafka retries a record until it is delivered (<c>message.timeout.ms</c> 0, unless the
/// configuration sets it), and when its local queue is full (Kafka slow or away) the writer waits for room rather than
/// drop the record. Waiting holds up the grain or read that produced it, which slows reading down: back-pressure, not loss.
/// </summary>
internal static class KafkaOutputs
{
    /// <summary>The producer settings of an output: the platform's, retrying until delivered.</summary>
    public static ProducerConfig ProducerConfig(KafkaEnvironment kafka, string clientId)
    {
        var config = kafka.ProducerConfig(clientId);
        if (config.MessageTimeoutMs is null && !config.Any(setting => setting.Key == "delivery.timeout.ms"))
        {
            config.MessageTimeoutMs = 0; // no time limit: a record is retried until Kafka takes it
        }

        return config;
    }

    /// <summary>
    /// As <see cref="Produce{TKey, TValue}(IProducer{TKey, TValue}, string, Message{TKey, TValue}, Action{DeliveryReport{TKey, TValue}})"/>,
    /// counting the record in the grain's <paramref name="unacknowledged"/> until its delivery report (or a refusal) ends it.
    /// </summary>
    public static void Produce<TKey, TValue>(IProducer<TKey, TValue> producer, string topic, Message<TKey, TValue> message, Action<DeliveryReport<TKey, TValue>> onDelivery, UnacknowledgedOutputs unacknowledged)
    {
        unacknowledged.Sent();
        try
        {
            Produce(producer, topic, message, report =>
            {
                try
                {
                    onDelivery(report);
                }
                finally
                {
                    unacknowledged.Acknowledged(); // delivered, or failed for good (counted and logged by onDelivery)
                }
            });
        }
        catch
        {
            unacknowledged.Acknowledged(); // never handed over: nothing will acknowledge it
            throw;
        }
    }

    /// <summary>
    /// Hands a record to the producer, waiting while its local queue is full. A record the producer refuses for good
    /// (too large for <c>message.max.bytes</c>, a fatal producer error) goes to <paramref name="onDelivery"/> as a failed
    /// delivery, as one Kafka refused later would: counted and logged there, never thrown into the grain that produced it.
    /// </summary>
    public static void Produce<TKey, TValue>(IProducer<TKey, TValue> producer, string topic, Message<TKey, TValue> message, Action<DeliveryReport<TKey, TValue>> onDelivery)
    {
        for (var wait = 1; ; wait = Math.Min(wait * 2, 64))
        {
            try
            {
                producer.Produce(topic, message, onDelivery);
                return;
            }
            catch (ProduceException<TKey, TValue> ex) when (ex.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
            {
                Thread.Sleep(wait); // room comes as librdkafka's own threads deliver
            }
            catch (ProduceException<TKey, TValue> ex)
            {
                onDelivery(new DeliveryReport<TKey, TValue> { Error = ex.Error, Topic = topic, Message = message });
                return;
            }
        }
    }
}
