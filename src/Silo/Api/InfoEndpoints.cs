using System.Reflection;
using Confluent.Kafka;
using Orleans.Runtime;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;
using Microsoft.Extensions.Options;
using StreamGrains.Events;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;
using StreamGrains.Api;

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
