using System.Globalization;
using StreamGrains.Events;
using StreamGrains.Silo.Configuration;

namespace StreamGrains.Silo.Demo;

/// <summary>
/// Makes realistic demo events: card payments and user clicks for a fixed population of entities. A small share of
/// cards is suspicious: now and then they make bursts of large payments from countries other than their own.
/// </summary>
internal sealed class DemoEventFactory
{
    private static readonly string[] Countries = ["DE", "FR", "NL", "ES", "IT", "PL", "SE", "GB", "US", "BR", "NG", "VN"];
    private static readonly string[] Channels = ["pos", "online", "contactless"];
    private static readonly string[] Pages = ["/", "/search", "/product", "/basket", "/checkout", "/account"];
    private static readonly string[] Devices = ["ios", "android", "web"];

    private readonly Random _random;
    private readonly string _runId;
    private readonly string[] _cards;
    private readonly string[] _users;
    private readonly string[] _homeCountry;
    private readonly HashSet<string> _suspicious;
    private readonly Func<DateTimeOffset> _clock;
    private long _sequence;
    private (int Card, int Remaining) _burst = (-1, 0);

    public DemoEventFactory(DemoSettings settings, int seed, Func<DateTimeOffset>? clock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _random = new Random(seed);
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
        _runId = seed.ToString("x8", CultureInfo.InvariantCulture);
        var cardCount = Math.Max(1, settings.Entities / 2);
        var userCount = Math.Max(1, settings.Entities - cardCount);
        _cards = Enumerable.Range(1, cardCount).Select(i => $"card-{i:D6}").ToArray();
        _users = Enumerable.Range(1, userCount).Select(i => $"user-{i:D6}").ToArray();
        _homeCountry = _cards.Select(_ => Countries[_random.Next(4)]).ToArray(); // most cards live in a few countries
        var suspiciousCount = (int)Math.Round(cardCount * settings.SuspiciousShare);
        _suspicious = _cards.OrderBy(_ => _random.Next()).Take(suspiciousCount).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The cards that behave suspiciously.</summary>
    public IReadOnlySet<string> SuspiciousCards => _suspicious;

    /// <summary>The entities the traffic is about.</summary>
    public int EntityCount => _cards.Length + _users.Length;

    public StreamEvent Next()
    {
        var now = _clock();
        var id = $"demo-{_runId}-{++_sequence}";
        if (_burst.Remaining > 0)
        {
            _burst.Remaining--;
            return SuspiciousPayment(id, now, _burst.Card);
        }

        if (_random.NextDouble() < 0.4)
        {
            return Click(id, now);
        }

        var card = _random.Next(_cards.Length);
        if (_suspicious.Contains(_cards[card]) && _random.NextDouble() < 0.3)
        {
            _burst = (card, _random.Next(2, 8));
            return SuspiciousPayment(id, now, card);
        }

        return new StreamEvent
        {
            Id = id,
            Entity = _cards[card],
            Type = "payment",
            Timestamp = now,
            Value = Math.Round(Math.Exp(3 + (_random.NextDouble() * 1.5)), 2), // mostly 20 to 90
            Attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
            {
                ["merchant"] = $"m-{_random.Next(1, 501)}",
                ["country"] = _homeCountry[card],
                ["channel"] = Channels[_random.Next(Channels.Length)],
            },
        };
    }

    private StreamEvent SuspiciousPayment(string id, DateTimeOffset now, int card) => new()
    {
        Id = id,
        Entity = _cards[card],
        Type = "payment",
        Timestamp = now,
        Value = Math.Round(500 + (_random.NextDouble() * 4500), 2),
        Attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            ["merchant"] = $"m-{_random.Next(900, 1000)}",
            ["country"] = Countries[4 + _random.Next(Countries.Length - 4)],
            ["channel"] = "online",
        },
    };

    private StreamEvent Click(string id, DateTimeOffset now)
    {
        var page = Pages[_random.Next(Pages.Length)];
        return new StreamEvent
        {
            Id = id,
            Entity = _users[_random.Next(_users.Length)],
            Type = "click",
            Timestamp = now,
            Attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
            {
                ["page"] = page == "/product" ? $"/product/{_random.Next(1, 2000)}" : page,
                ["device"] = Devices[_random.Next(Devices.Length)],
            },
        };
    }
}
