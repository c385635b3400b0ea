using System.Collections.Concurrent;

namespace StreamGrains.Kafka.Providers;

/// <summary>The Kafka stream provider factories of this process, by provider name.</summary>
public sealed class KafkaAdapterFactoryRegistry
{
    private readonly ConcurrentDictionary<string, KafkaAdapterFactory> _factories = new(StringComparer.Ordinal);

    /// <summary>The factory of a provider, once Orleans created it.</summary>
    /// <param name="name">The provider name.</param>
    public KafkaAdapterFactory? Get(string name) => _factories.GetValueOrDefault(name);

    /// <summary>Every factory.</summary>
    public IReadOnlyCollection<KafkaAdapterFactory> All => _factories.Values.ToList();

    /// <summary>Raised when this process starts or stops reading a partition, for any provider.</summary>
    public event Action? OwnershipChanged;

    internal void Add(KafkaAdapterFactory factory)
    {
        _factories[factory.Name] = factory;
        factory.OwnershipChanged += () => OwnershipChanged?.Invoke();
    }
}
