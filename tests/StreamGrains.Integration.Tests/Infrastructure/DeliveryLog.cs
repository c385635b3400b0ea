using System.Collections.Concurrent;

namespace StreamGrains.Integration.Tests.Infrastructure;

/// <summary>What the test grains received, across every in-process silo of a test cluster.</summary>
internal static class DeliveryLog
{
    private static ConcurrentQueue<Delivery> _deliveries = new();
    private static ConcurrentQueue<Delivery> _probe = new();

    public static IReadOnlyCollection<Delivery> Deliveries => _deliveries;

    public static IReadOnlyCollection<Delivery> ProbeDeliveries => _probe;

    public static void Clear()
    {
        _deliveries = new ConcurrentQueue<Delivery>();
        _probe = new ConcurrentQueue<Delivery>();
    }

    public static void Record(Delivery delivery) => _deliveries.Enqueue(delivery);

    public static void RecordProbe(Delivery delivery) => _probe.Enqueue(delivery);

    /// <summary>Distinct (partition, offset) pairs delivered.</summary>
    public static int DistinctOffsets => _deliveries.Select(d => (d.Partition, d.Offset)).Distinct().Count();
}

internal sealed record Delivery(string Key, int Partition, long Offset, bool Replay, string? EventId);
