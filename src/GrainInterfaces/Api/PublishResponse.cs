namespace StreamGrains.Api;

/// <summary>The body of a <c>202</c> from <c>POST /api/events</c>.</summary>
/// <param name="Accepted">The events taken: acknowledged by Kafka, or safely in the silo's spill log while Kafka is away.</param>
/// <param name="Spilled">How many of them wait in the spill log (sent, in order, once Kafka answers again).</param>
[GenerateSerializer, Immutable, Alias("sg.api.publish-response")]
public sealed record PublishResponse([property: Id(0)] int Accepted, [property: Id(1)] int Spilled = 0);
