using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Profiles;
using StreamGrains.Rules;

namespace StreamGrains.Grains.Tests.Rules;

/// <summary>Compiles rules from settings and runs events through them, as a profile grain does.</summary>
internal sealed class RuleTestKit
{
    private readonly RuleBook _book;

    public RuleTestKit(params (string Name, RuleSettings Settings)[] rules)
    {
        var errors = new List<string>();
        _book = new RuleBook(RuleCompiler.Compile(rules.ToDictionary(r => r.Name, r => r.Settings), "StreamGrains:Rules", errors));
        Assert.Empty(errors);
    }

    public EntityProfile Profile { get; } = new();

    public IReadOnlyDictionary<string, AttributeValue> Context { get; set; } = StreamEvent.EmptyAttributes;

    public List<(StreamEvent Event, EventVerdict Verdict)> Log { get; } = [];

    public EventVerdict Feed(StreamEvent evt)
    {
        var verdict = RuleEngine.Decide(_book, evt, Profile, Context, Events.T0.AddHours(1));
        Log.Add((evt, verdict));
        return verdict;
    }

    /// <summary>The ids of the events each decision was about, in order.</summary>
    public IEnumerable<string?> FiredOn(string rule) =>
        Log.SelectMany(l => l.Verdict.Decisions.Where(d => d.Rule == rule).Select(d => d.EventId));

    public IEnumerable<Decision> Decisions => Log.SelectMany(l => l.Verdict.Decisions);
}
