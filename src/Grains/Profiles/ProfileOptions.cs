namespace StreamGrains.Profiles;

/// <summary>How profile grains live: <c>StreamGrains:Profiles</c>.</summary>
public sealed class ProfileOptions
{
    /// <summary>
    /// Whether each entity gets a profile grain (and rules decide on its events). Off, the silo only ingests, archives
    /// and aggregates: no grain per entity, no decisions, and configured rules are a start-up error.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A profile that took no event and answered no query for this long is deactivated (its state stays stored).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a profile that changed writes its state to grain storage (and when it is deactivated).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);
}
