using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using StreamGrains.Profiles;

namespace StreamGrains.Hosting;

/// <summary>Builder extensions for hosts that use the provider but not the platform's grains.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Leaves the profile grain out of this silo, with its implicit subscription to the <c>events</c> namespace: for
    /// hosts (tests, benchmarks) that read events with grains of their own and do not wire the profiles' services.
    /// </summary>
    /// <param name="silo">The silo.</param>
    public static ISiloBuilder WithoutProfiles(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.Configure<GrainTypeOptions>(options => options.Classes.Remove(typeof(ProfileGrain)));
        return silo;
    }
}
