namespace StreamGrains.Client;

/// <summary>Where the client finds the cluster's HTTP API, and how it calls it.</summary>
public sealed class StreamGrainsClientOptions
{
    /// <summary>The base address of the API: a silo, or the load balancer in front of the silos (e.g. <c>http://localhost:5000</c>).</summary>
    public Uri BaseAddress { get; set; } = new("http://localhost:5000");

    /// <summary>The API key, sent as <c>X-Api-Key</c>; null for an open cluster.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one attempt may take (default 10 s); a failed or timed-out attempt is retried.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a call may take across all its attempts (default 30 s).</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a read is retried after a transient failure (5xx, 408, 429, connection errors; default 3); publishing is not retried.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (BaseAddress is null || !BaseAddress.IsAbsoluteUri)
        {
            throw new ArgumentException($"{nameof(BaseAddress)} must be an absolute URI, was '{BaseAddress}'.", nameof(BaseAddress));
        }

        if (AttemptTimeout <= TimeSpan.Zero || TotalTimeout < AttemptTimeout)
        {
            throw new ArgumentException($"{nameof(AttemptTimeout)} must be positive and at most {nameof(TotalTimeout)} (were {AttemptTimeout} and {TotalTimeout}).", nameof(AttemptTimeout));
        }

        if (MaxRetries is < 0 or > 20)
        {
            throw new ArgumentException($"{nameof(MaxRetries)} must be between 0 and 20, was {MaxRetries}.", nameof(MaxRetries));
        }
    }
}
