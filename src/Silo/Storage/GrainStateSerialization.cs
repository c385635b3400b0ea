using Orleans.Serialization;
using Orleans.Storage;

namespace StreamGrains.Silo.Storage;

/// <summary>
/// Grain state is written with Orleans' own serializer, in every storage (memory or PostgreSQL): the
/// <c>[GenerateSerializer]</c>/<c>[Id]</c> contract the state types have, private fields and setters included,
/// versioned by id. Orleans' default for storage is JSON of public settable properties, which brings a profile back
/// empty.
/// </summary>
internal static class GrainStateSerialization
{
    public static ISiloBuilder UseOrleansSerializer(ISiloBuilder silo)
    {
        // Orleans registers its JSON default with TryAdd: this registration is the one resolved.
        silo.Services.AddSingleton<IGrainStorageSerializer>(sp => new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>()));
        return silo;
    }
}
