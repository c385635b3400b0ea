using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace StreamGrains.Benchmarks;

/// <summary>
/// Which types a process allocates, sampled by the runtime itself: the GC's allocation tick (an event about every
/// 100 KB allocated, naming the type of the object that crossed the mark), counted while <see cref="Enabled"/> is set.
/// </summary>
internal sealed class AllocationTypes : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    public bool Enabled { get; set; }

    public IEnumerable<(string Type, long Bytes)> Top(int count) =>
        _bytes.OrderByDescending(t => t.Value).Take(count).Select(t => (t.Key, t.Value));

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!Enabled || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        var type = eventData.PayloadNames?.IndexOf("TypeName") is int t and >= 0 ? eventData.Payload[t] as string : null;
        var amount = eventData.PayloadNames?.IndexOf("AllocationAmount64") is int a and >= 0 ? Convert.ToInt64(eventData.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 0;
        _bytes.AddOrUpdate(type ?? "?", amount, (_, total) => total + amount);
    }
}
