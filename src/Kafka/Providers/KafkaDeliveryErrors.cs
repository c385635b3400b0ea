using System.Runtime.CompilerServices;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// The last error each batch's delivery call failed with, on this silo. Orleans' pulling agent tells the queue cache and
/// the failure handler that a delivery failed, but not why; <see cref="KafkaDeliveryErrorCapture"/> sees the delivery
/// calls and writes their errors here, so that a dead-lettered batch carries the consumer's error.
/// </summary>
internal sealed class KafkaDeliveryErrors
{
    private readonly ConditionalWeakTable<KafkaBatchContainer, Exception> _errors = [];

    public void Record(KafkaBatchContainer batch, Exception error) => _errors.AddOrUpdate(batch, error);

    public void Clear(KafkaBatchContainer batch) => _errors.Remove(batch);

    /// <summary>True when the last delivery of <paramref name="batch"/> failed (and none succeeded since).</summary>
    public bool Failed(KafkaBatchContainer batch) => _errors.TryGetValue(batch, out _);

    /// <summary>The error the last delivery of <paramref name="batch"/> failed with, if one was seen.</summary>
    public Exception? Take(KafkaBatchContainer batch) => _errors.TryGetValue(batch, out var error) && _errors.Remove(batch) ? error : null;
}
