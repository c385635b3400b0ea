using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace StreamGrains.Kafka.Tracing;

/// <summary>
/// W3C trace context across Kafka: the provider continues the trace of a record that carries a <c>traceparent</c>
/// header through its receipt (<c>receive</c> span) and its delivery to the consuming grain (<c>deliver</c> span), and
/// puts the current trace into the headers of every record it publishes. A record without one starts a trace only when
/// the tracer's sampler picks it, so tracing costs little at high rates.
/// </summary>
public static class KafkaTracing
{
    /// <summary>The activity source of the provider's spans.</summary>
    public const string ActivitySourceName = "StreamGrains.Kafka";

    /// <summary>The W3C trace-context header holding the parent span.</summary>
    public const string TraceParentHeader = "traceparent";

    /// <summary>The W3C trace-state header.</summary>
    public const string TraceStateHeader = "tracestate";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>The start of the name of every receive span: <c>receive &lt;topic&gt;</c>.</summary>
    public const string ReceiveSpanPrefix = "receive ";

    /// <summary>The name of the span of a record's receipt from <paramref name="topic"/>.</summary>
    internal static string ReceiveSpanName(string topic) => ReceiveSpanPrefix + topic;

    /// <summary>Starts the span of a record's receipt, as a child of its <c>traceparent</c> header if it has one.</summary>
    /// <remarks>On the hot path: with no listener it costs one check; unsampled, one sampling decision.</remarks>
    internal static Activity? StartReceive(string spanName, string topic, int partition, long offset, Headers? headers, double rootSampleRatio)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var parent = Extract(headers);
        if (parent == default && rootSampleRatio < 1 && (rootSampleRatio <= 0 || Random.Shared.NextDouble() >= rootSampleRatio))
        {
            return null; // not picked to start a trace
        }

        var previous = Activity.Current;
        if (previous is not null)
        {
            Activity.Current = null; // a record without a trace context is a root: the sampler decides
        }

        try
        {
            var activity = Source.StartActivity(spanName, ActivityKind.Consumer, parent);
            if (activity is not null && activity.IsAllDataRequested)
            {
                activity.SetTag("messaging.system", "kafka");
                activity.SetTag("messaging.operation.type", "receive");
                activity.SetTag("messaging.destination.name", topic);
                activity.SetTag("messaging.destination.partition.id", partition);
                activity.SetTag("messaging.kafka.offset", offset);
            }

            if (activity is not null || previous is not null)
            {
                Activity.Current = previous; // the span ends with the record's decoding, not with this call
            }

            return activity;
        }
        catch
        {
            Activity.Current = previous;
            throw;
        }
    }

    /// <summary>Starts the span of a batch's delivery to a consumer, as a child of its first traced event.</summary>
    internal static Activity? StartDeliver(string streamNamespace, IReadOnlyList<string?> traceParents)
    {
        ActivityContext parent = default;
        List<ActivityLink>? links = null;
        foreach (var traceParent in traceParents)
        {
            if (traceParent is null || !ActivityContext.TryParse(traceParent, null, isRemote: true, out var context))
            {
                continue;
            }

            if (parent == default)
            {
                parent = context;
            }
            else
            {
                (links ??= []).Add(new ActivityLink(context));
            }
        }

        if (parent == default)
        {
            return null;
        }

        var previous = Activity.Current;
        try
        {
            var activity = Source.StartActivity($"deliver {streamNamespace}", ActivityKind.Consumer, parent, links: links);
            activity?.SetTag("messaging.system", "kafka");
            activity?.SetTag("messaging.operation.type", "process");
            return activity;
        }
        finally
        {
            Activity.Current = previous; // the span ends when the cursor moves on, not with this call
        }
    }

    /// <summary>
    /// Starts a span for a consuming grain's work on a delivered event, as a child of the delivery when it is traced
    /// (the delivery's context travels in the Orleans request context). While it is current, the grain's calls to other
    /// grains (with Orleans' activity propagation) and what it publishes stay in the event's trace.
    /// </summary>
    /// <param name="name">The span name, e.g. <c>decide payment</c>.</param>
    /// <returns>The span, or null when the delivery is not traced; dispose it when the work is done.</returns>
    public static Activity? StartProcessing(string name)
    {
        if (!Source.HasListeners() ||
            Orleans.Runtime.RequestContext.Get(TraceParentHeader) is not string traceParent ||
            !ActivityContext.TryParse(traceParent, Orleans.Runtime.RequestContext.Get(TraceStateHeader) as string, isRemote: true, out var parent))
        {
            return null;
        }

        return Source.StartActivity(name, ActivityKind.Internal, parent);
    }

    /// <summary>Starts the span of publishing to a topic, as a child of the current trace (the activity, else the grain call's request context).</summary>
    internal static Activity? StartPublish(string topic, Dictionary<string, object>? requestContext)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var parent = Activity.Current?.Context ?? default;
        if (parent == default && requestContext?.GetValueOrDefault(TraceParentHeader) is string traceParent)
        {
            ActivityContext.TryParse(traceParent, requestContext.GetValueOrDefault(TraceStateHeader) as string, isRemote: true, out parent);
        }

        var activity = parent == default
            ? Source.StartActivity($"publish {topic}", ActivityKind.Producer)
            : Source.StartActivity($"publish {topic}", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.destination.name", topic);
        return activity;
    }

    /// <summary>Ends a span without disturbing the caller's <see cref="Activity.Current"/> (stopping restores the activity that was current when it started).</summary>
    internal static void End(Activity? activity)
    {
        if (activity is null)
        {
            return;
        }

        var current = Activity.Current;
        activity.Dispose();
        if (Activity.Current != current)
        {
            Activity.Current = current;
        }
    }

    /// <summary>Writes a span's context into record headers.</summary>
    internal static void Inject(Activity activity, Headers headers)
    {
        headers.Add(TraceParentHeader, Encoding.ASCII.GetBytes(activity.Id!));
        if (activity.TraceStateString is { Length: > 0 } state)
        {
            headers.Add(TraceStateHeader, Encoding.ASCII.GetBytes(state));
        }
    }

    /// <summary>The trace context in a record's headers, or default.</summary>
    internal static ActivityContext Extract(Headers? headers)
    {
        if (headers is null || headers.Count == 0 || !headers.TryGetLastBytes(TraceParentHeader, out var parentBytes))
        {
            return default;
        }

        var state = headers.TryGetLastBytes(TraceStateHeader, out var stateBytes) ? Encoding.ASCII.GetString(stateBytes) : null;
        return ActivityContext.TryParse(Encoding.ASCII.GetString(parentBytes), state, isRemote: true, out var context) ? context : default;
    }
}
