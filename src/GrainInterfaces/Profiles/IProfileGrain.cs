using Orleans.Concurrency;

namespace StreamGrains.Profiles;

/// <summary>
/// The profile of one entity (the grain key): fed by the entity's events from Kafka, it keeps running statistics and
/// the entity's external context, and applies the configured rules to every event.
/// </summary>
public interface IProfileGrain : IGrainWithStringKey
{
    /// <summary>The profile, or null when the entity was never seen (asking stores nothing).</summary>
    [AlwaysInterleave]
    Task<ProfileSnapshot?> GetProfile();
}
