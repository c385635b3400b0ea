using OpenTelemetry.Trace;
using StreamGrains.Kafka.Tracing;

namespace StreamGrains.Silo.Hosting;

/// <summary>
/// The silo's trace sampler. A span with a parent follows its parent's decision. A root span of the Kafka provider is
/// kept: the provider already picked its records at the configured ratio, cheaply, before making the span. Any other
/// root (an HTTP request, say) is kept at the configured ratio.
/// </summary>
public sealed class StreamGrainsSampler(double ratio) : Sampler
{
    private readonly TraceIdRatioBasedSampler _roots = new(ratio);
    private readonly ParentBasedSampler _children = new(new AlwaysOffSampler());

    /// <inheritdoc />
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.ParentContext.TraceId != default)
        {
            return _children.ShouldSample(samplingParameters);
        }

        return samplingParameters.Name.StartsWith(KafkaTracing.ReceiveSpanPrefix, StringComparison.Ordinal)
            ? new SamplingResult(SamplingDecision.RecordAndSample)
            : _roots.ShouldSample(samplingParameters);
    }
}
