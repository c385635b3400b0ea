namespace StreamGrains.Api;

/// <summary>The body of a <c>202</c> from <c>POST /api/events</c>.</summary>
/// <param name="Accepted">The events Kafka acknowledged.</param>
public sealed record PublishResponse(int Accepted);
