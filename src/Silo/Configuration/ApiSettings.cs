namespace StreamGrains.Silo.Configuration;

/// <summary>The <c>StreamGrains:Api</c> section: who may call the HTTP API, and how much.</summary>
public sealed class ApiSettings
{
    /// <summary>
    /// API keys by name: <c>StreamGrains:Api:Keys:&lt;name&gt;:Sha256</c> and <c>...:Scopes</c>. None configured: the API
    /// is open (the embedded default; the start-up banner says so). Any configured: every <c>/api</c> route needs a key.
    /// </summary>
    public Dictionary<string, ApiKeySettings> Keys { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The largest request body accepted, in bytes (default 4 MiB); larger: 413.</summary>
    public long MaxRequestBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>The most events one <c>POST /api/events</c> may carry (default 10,000).</summary>
    public int MaxEventsPerRequest { get; set; } = 10_000;

    /// <summary>
    /// How long a posted event waits for Kafka's acknowledgement before it goes to the local spill log instead (default
    /// 5 s): the longest a <c>POST /api/events</c> waits when Kafka is away.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where posted events wait while Kafka is away; empty: <c>streamgrains-spill/&lt;cluster&gt;-&lt;silo port&gt;</c> under the temp directory. Give each silo its own, on a disk that outlives the process.</summary>
    public string? SpillDirectory { get; set; }

    /// <summary>
    /// The most bytes the spill log's file may hold (default 1 GiB; emptied once all of it is sent): while it is full
    /// (Kafka away, or the log still being sent), <c>POST /api/events</c> answers 503 with <c>Retry-After</c> and takes
    /// nothing of the request, so that an outage fills no disk.
    /// </summary>
    public long MaxSpillBytes { get; set; } = 1L << 30;

    /// <summary>
    /// The load balancers in front of the silos, as addresses or networks (<c>10.0.0.5</c>, <c>172.16.0.0/12</c>): a request
    /// from one of them is taken to come from the client its <c>X-Forwarded-For</c> names (and over the scheme of its
    /// <c>X-Forwarded-Proto</c>), so that the rate limit counts each client, not the load balancer. Empty (default):
    /// those headers are ignored. Every trusted hop is stripped (a cloud balancer in front of nginx: trust both).
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Requests per client (API key, or remote address when the API is open).</summary>
    public ApiRateLimitSettings RateLimit { get; set; } = new();

    /// <summary>Reads one of <see cref="TrustedProxies"/>: an address, or a network in CIDR notation.</summary>
    internal static bool TryParseProxy(string? value, out System.Net.IPAddress? address, out System.Net.IPNetwork network)
    {
        address = null;
        network = default;
        var text = value?.Trim();
        return !string.IsNullOrEmpty(text) && (text.Contains('/', StringComparison.Ordinal)
            ? System.Net.IPNetwork.TryParse(text, out network)
            : System.Net.IPAddress.TryParse(text, out address));
    }
}

/// <summary>The section <c>StreamGrains:Api:Keys:&lt;name&gt;</c>.</summary>
public sealed class ApiKeySettings
{
    /// <summary>The key's SHA-256, 64 hexadecimal digits (e.g. <c>printf %s "$KEY" | sha256sum</c>): no key is stored in clear.</summary>
    public string? Sha256 { get; set; }

    /// <summary>What the key may do: <c>read</c> (the GET routes), <c>write</c> (<c>POST /api/events</c>), <c>admin</c> (the dashboard, and everything else).</summary>
    public List<string> Scopes { get; set; } = [];
}

/// <summary>The <c>StreamGrains:Api:RateLimit</c> section: a fixed window per client, on <c>/api</c>.</summary>
public sealed class ApiRateLimitSettings
{
    /// <summary>Requests one client may make per <see cref="Window"/> (default 10,000); 0 turns rate limiting off.</summary>
    public int PermitLimit { get; set; } = 10_000;

    /// <summary>The window (default one second).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);
}
