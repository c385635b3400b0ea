using StreamGrains.Rules;

namespace StreamGrains.Grains.Tests.Rules;

public sealed class RuleCompilerTests
{
    [Theory]
    [InlineData(null, "StreamGrains:Rules:r:Kind: required")]
    [InlineData("Treshold", "StreamGrains:Rules:r:Kind: 'Treshold' is not a rule kind")]
    public void A_missing_or_unknown_kind_names_the_setting(string? kind, string expected)
    {
        var errors = Compile(new RuleSettings { Kind = kind });
        Assert.StartsWith(expected, Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_kind_names_what_it_lacks()
    {
        Assert.Contains(Compile(new RuleSettings { Kind = "Threshold" }), e => e.StartsWith("StreamGrains:Rules:r:Above:", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "Threshold", Above = 1, Field = "amount" }), e => e.StartsWith("StreamGrains:Rules:r:Field: 'amount'", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "Threshold", Above = 1, Below = 5 }), e => e.StartsWith("StreamGrains:Rules:r:Below:", StringComparison.Ordinal));
        var velocity = Compile(new RuleSettings { Kind = "Velocity" });
        Assert.Contains(velocity, e => e.StartsWith("StreamGrains:Rules:r:Count:", StringComparison.Ordinal));
        Assert.Contains(velocity, e => e.StartsWith("StreamGrains:Rules:r:Within:", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "Deviation" }), e => e.StartsWith("StreamGrains:Rules:r:Sigmas:", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "Deviation", Sigmas = 3, MinEvents = 1 }), e => e.StartsWith("StreamGrains:Rules:r:MinEvents:", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "NewValue" }), e => e.StartsWith("StreamGrains:Rules:r:Attribute:", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "ContextMismatch" }), e => e.StartsWith("StreamGrains:Rules:r:Attribute:", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "Expression" }), e => e.StartsWith("StreamGrains:Rules:r:Expression:", StringComparison.Ordinal));
        Assert.Contains(Compile(new RuleSettings { Kind = "Threshold", Above = 1, Action = "Block" }), e => e.StartsWith("StreamGrains:Rules:r:Action: 'Block'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("value >")]
    [InlineData("value + 1")]
    [InlineData("nosuchvariable > 1")]
    [InlineData("System.IO.File.Exists(\"/etc/passwd\")")]
    public void An_expression_that_does_not_parse_to_a_boolean_over_the_known_names_is_refused(string expression)
    {
        var error = Assert.Single(Compile(new RuleSettings { Kind = "Expression", Expression = expression }));
        Assert.StartsWith("StreamGrains:Rules:r:Expression:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextMismatch_compares_with_the_same_attribute_by_default_and_names_are_not_case_sensitive()
    {
        var errors = new List<string>();
        var rule = Assert.IsType<ContextMismatchRule>(RuleCompiler.Compile("r", new RuleSettings { Kind = "contextmismatch", Attribute = "country", Action = "flag" }, "StreamGrains:Rules:r", errors));
        Assert.Empty(errors);
        Assert.Equal("country", rule.ContextAttribute);
        Assert.Equal(StreamGrains.Decisions.RuleAction.Flag, rule.Action);
    }

    private static List<string> Compile(RuleSettings settings)
    {
        var errors = new List<string>();
        var rule = RuleCompiler.Compile("r", settings, "StreamGrains:Rules:r", errors);
        Assert.True(errors.Count == 0 ? rule is not null : rule is null);
        return errors;
    }
}
