using StreamGrains.Events;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Demo;

namespace StreamGrains.Silo.Tests.Demo;

public sealed class DemoEventFactoryTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Makes_valid_payments_and_clicks_over_the_configured_population()
    {
        var factory = new DemoEventFactory(new DemoSettings { Entities = 2000, SuspiciousShare = 0.05 }, seed: 7, () => Now);
        var events = Enumerable.Range(0, 20_000).Select(_ => factory.Next()).ToList();

        Assert.Equal(2000, factory.EntityCount);
        Assert.Equal(50, factory.SuspiciousCards.Count);
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        Assert.All(events, e =>
        {
            // Everything the generator makes survives the contract's own reader.
            var parsed = StreamEventJson.Parse(StreamEventJson.Serialize(e), e.Entity);
            Assert.Equal(e.Entity, parsed.Entity);
            Assert.Equal(Now, parsed.Timestamp);
        });
        var payments = events.Where(e => e.Type == "payment").ToList();
        var clicks = events.Where(e => e.Type == "click").ToList();
        Assert.InRange(payments.Count, 10_000, 14_000);
        Assert.All(payments, p => Assert.StartsWith("card-", p.Entity, StringComparison.Ordinal));
        Assert.All(clicks, c => Assert.StartsWith("user-", c.Entity, StringComparison.Ordinal));
        Assert.True(events.Select(e => e.Entity).Distinct().Count() > 1500);
    }

    [Fact]
    public void Suspicious_cards_make_bursts_of_large_foreign_payments_and_others_do_not()
    {
        var factory = new DemoEventFactory(new DemoSettings { Entities = 400, SuspiciousShare = 0.1 }, seed: 11, () => Now);
        var payments = Enumerable.Range(0, 50_000).Select(_ => factory.Next()).Where(e => e.Type == "payment").ToList();

        var large = payments.Where(p => p.Value >= 500).ToList();
        Assert.NotEmpty(large);
        Assert.All(large, p => Assert.Contains(p.Entity, factory.SuspiciousCards));
        var normal = payments.Where(p => !factory.SuspiciousCards.Contains(p.Entity)).ToList();
        Assert.All(normal, p => Assert.InRange(p.Value!.Value, 1, 500));
        // A normal card always pays in its home country.
        Assert.All(normal.GroupBy(p => p.Entity), g => Assert.Single(g.Select(p => p.Attribute("country")).Distinct()));
    }

    [Fact]
    public void The_same_seed_makes_the_same_traffic()
    {
        var settings = new DemoSettings { Entities = 100 };
        var a = new DemoEventFactory(settings, 3, () => Now);
        var b = new DemoEventFactory(settings, 3, () => Now);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(StreamEventJson.Serialize(a.Next()), StreamEventJson.Serialize(b.Next()));
        }
    }
}
