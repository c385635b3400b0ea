using System.Reflection;
using Confluent.Kafka;
using Orleans.Runtime;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;
using Microsoft.Extensions.Options;
using StreamGrains.Events;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Silo.Api;

/// <summary><c>GET /api/info</c>: what this silo is and which Kafka it uses; tests and tools find the embedded broker here.</summary>
internal static class InfoEndpoints
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(2);

    public static string Version { get; } =
        typeof(InfoEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(InfoEndpoints).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    public static IEndpointRouteBuilder MapInfoEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/info", GetInfoAsync)
            .WithName("GetInfo")
            .WithSummary("The silo's version, address, Kafka and storage.");
        return endpoints;
    }

    private static async Task<InfoResponse> GetInfoAsync(
        ILocalSiloDetails silo,
        KafkaEnvironment kafka,
        KafkaMetadataReader metadata,
        PartitionOwnership ownership,
        IOptions<StreamGrainsOptions> options,
        CancellationToken cancellationToken)
    {
        var partitions = (await ownership.CurrentAsync(localWhenDirectoryFails: true).ConfigureAwait(false))
            .Select(p => new PartitionInfo(
                p.Topic,
                p.Partition,
                p.Status?.Owner,
                p.Status?.State ?? "unowned",
                p.Status is { ReadUpTo: >= 0 } ? p.Status.ReadUpTo : null,
                p.Status is { CommittedOffset: >= 0 } ? p.Status.CommittedOffset : null,
                p.Status?.HighWatermark,
                p.Status?.HighWatermarkAgeMs,
                p.Status?.Lag,
                p.Status is { HighWatermark: { } high, CommittedOffset: >= 0 } ? Math.Max(0, high - p.Status.CommittedOffset) : null))
            .ToList();
        IReadOnlyList<TopicInfo> topics;
        string? kafkaError = null;
        try
        {
            var described = await metadata.DescribeTopicsAsync(MetadataTimeout, cancellationToken).ConfigureAwait(false);
            topics = described.Select(t => new TopicInfo(t.Topic, RoleOf(kafka, t.Topic), t.Error.IsError ? null : t.Partitions.Count)).ToList();
        }
        catch (KafkaException ex)
        {
            kafkaError = ex.Error.Reason;
            topics = kafka.Topics.Select(t => new TopicInfo(t, RoleOf(kafka, t), null)).ToList();
        }

        return new InfoResponse(
            Version,
            silo.SiloAddress.ToParsableString(),
            silo.ClusterId,
            new KafkaInfo(kafka.BootstrapServers, kafka.IsEmbedded, kafka.IsEmbedded ? kafka.EmbeddedBrokerCount : null, kafka.ConsumerGroup, topics, partitions, kafkaError),
            options.Value.Storage.ParsedKind.ToString());
    }

    private static string RoleOf(KafkaEnvironment kafka, string topic) =>
        topic == kafka.DeadLetterTopic ? "dead-letter" : topic == kafka.InputTopic ? "input" : "output";
}

/// <summary>The body of <c>GET /api/info</c>.</summary>
/// <param name="Version">The platform version.</param>
/// <param name="SiloAddress">This silo's Orleans address.</param>
/// <param name="ClusterId">The Orleans cluster id.</param>
/// <param name="Kafka">The Kafka the platform uses.</param>
/// <param name="Storage">The grain storage kind.</param>
public sealed record InfoResponse(string Version, string SiloAddress, string ClusterId, KafkaInfo Kafka, string Storage);

/// <summary>The Kafka part of <see cref="InfoResponse"/>.</summary>
/// <param name="BootstrapServers">Where Kafka clients connect.</param>
/// <param name="Embedded">True when the broker runs inside this silo's process.</param>
/// <param name="EmbeddedBrokers">The embedded broker count, when embedded.</param>
/// <param name="ConsumerGroup">The platform's consumer group.</param>
/// <param name="Topics">The platform's topics.</param>
/// <param name="Partitions">Every partition the platform reads: who reads it and how far.</param>
/// <param name="Error">Why the topic metadata could not be read, if it could not.</param>
public sealed record KafkaInfo(string BootstrapServers, bool Embedded, int? EmbeddedBrokers, string ConsumerGroup, IReadOnlyList<TopicInfo> Topics, IReadOnlyList<PartitionInfo> Partitions, string? Error);

/// <summary>One partition the platform reads.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Owner">The silo reading it, or null when no live silo reports it (stuck or orphaned).</param>
/// <param name="State">
/// <c>reading</c>; <c>starting</c> (its reader has not fetched yet); <c>unreadable</c> (its leader broker has been away for
/// longer than <c>Kafka:UnreadableAfter</c>); or <c>unowned</c> (no live silo reads it).
/// </param>
/// <param name="CurrentOffset">The next offset its reader will read.</param>
/// <param name="CommittedOffset">The offset its reader last committed for the consumer group.</param>
/// <param name="HighWatermark">The partition's last known high watermark.</param>
/// <param name="HighWatermarkAgeMs">How long ago that high watermark was seen (it grows while the partition cannot be read).</param>
/// <param name="Lag">Records not yet read: the high watermark minus the current offset.</param>
/// <param name="CommitLag">Records not yet committed: the high watermark minus the committed offset.</param>
public sealed record PartitionInfo(string Topic, int Partition, string? Owner, string State, long? CurrentOffset, long? CommittedOffset, long? HighWatermark, long? HighWatermarkAgeMs, long? Lag, long? CommitLag);

/// <summary>One topic of the platform.</summary>
/// <param name="Name">The topic name.</param>
/// <param name="Role">What the platform does with it: <c>input</c>, <c>dead-letter</c> or <c>output</c>.</param>
/// <param name="Partitions">The partition count, when known.</param>
public sealed record TopicInfo(string Name, string Role, int? Partitions);
