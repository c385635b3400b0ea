namespace StreamGrains.Events;

/// <summary>The names grains use to find the platform's streams.</summary>
public static class StreamNames
{
    /// <summary>The Kafka stream provider.</summary>
    public const string Provider = "kafka";

    /// <summary>The stream namespace of incoming events (read from the configured input topic); the stream key is the entity.</summary>
    public const string Events = "events";
}
