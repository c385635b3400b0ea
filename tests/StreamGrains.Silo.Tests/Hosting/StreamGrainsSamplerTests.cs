using System.Diagnostics;
using OpenTelemetry.Trace;
using StreamGrains.Silo.Hosting;

namespace StreamGrains.Silo.Tests.Hosting;

public sealed class StreamGrainsSamplerTests
{
    private static SamplingDecision Decide(Sampler sampler, string name, ActivityContext parent = default) =>
        sampler.ShouldSample(new SamplingParameters(parent, ActivityTraceId.CreateRandom(), name, ActivityKind.Consumer)).Decision;

    [Fact]
    public void Keeps_the_receive_roots_the_provider_picked_and_samples_other_roots_at_the_ratio()
    {
        var never = new StreamGrainsSampler(0);
        var always = new StreamGrainsSampler(1);

        Assert.Equal(SamplingDecision.RecordAndSample, Decide(never, "receive events"));
        Assert.Equal(SamplingDecision.Drop, Decide(never, "GET /api/info"));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(always, "GET /api/info"));
    }

    [Fact]
    public void Children_follow_their_parents_decision()
    {
        var sampler = new StreamGrainsSampler(0);
        var sampled = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        var unsampled = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

        Assert.Equal(SamplingDecision.RecordAndSample, Decide(sampler, "deliver events", sampled));
        Assert.Equal(SamplingDecision.Drop, Decide(sampler, "receive events", unsampled));
    }
}
