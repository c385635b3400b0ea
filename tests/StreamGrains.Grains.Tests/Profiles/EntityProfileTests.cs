using StreamGrains.Profiles;

namespace StreamGrains.Grains.Tests.Profiles;

public sealed class EntityProfileTests
{
    [Fact]
    public void Keeps_times_counts_per_type_and_the_last_distinct_values()
    {
        var profile = new EntityProfile();
        profile.Apply(Events.At(5, "payment", 10, attrs: ("country", "NL")));
        profile.Apply(Events.At(2, "click", attrs: ("country", "DE")));
        profile.Apply(Events.At(9, "payment", 30, attrs: ("country", "NL")));

        var snapshot = profile.ToSnapshot("card-1", StreamGrains.Events.StreamEvent.EmptyAttributes, null);
        Assert.Equal(3, snapshot.Count);
        Assert.Equal(2, snapshot.ValueCount);
        Assert.Equal(40, snapshot.Sum);
        Assert.Equal(20, snapshot.Mean);
        Assert.Equal(10, snapshot.StdDev, 1e-12);
        Assert.Equal(Events.T0.AddSeconds(2), snapshot.FirstEventTime);
        Assert.Equal(Events.T0.AddSeconds(9), snapshot.LastEventTime);
        Assert.Equal(2, snapshot.CountsByType["payment"]);
        Assert.Equal(1, snapshot.CountsByType["click"]);
        Assert.Equal(["DE", "NL"], snapshot.RecentValues["country"]); // most recent last, distinct
    }

    [Fact]
    public void Recent_values_are_capped_per_attribute_and_in_attributes()
    {
        var recent = new RecentValues();
        for (var i = 0; i < 20; i++)
        {
            recent.Add("merchant", $"m-{i}");
        }

        Assert.Equal(Enumerable.Range(12, 8).Select(i => $"m-{i}"), recent.Values["merchant"]);
        for (var i = 0; i < 50; i++)
        {
            recent.Add($"a{i}", "x");
        }

        Assert.Equal(RecentValues.MaxAttributes, recent.Values.Count);
    }

    [Fact]
    public void The_anomaly_score_is_an_exponential_average_of_absolute_z_scores_against_earlier_values()
    {
        var profile = new EntityProfile();
        profile.Apply(Events.At(1, value: 10));
        profile.Apply(Events.At(2, value: 12));
        Assert.Equal(0, profile.AnomalyScore); // no deviation before the second value

        profile.Apply(Events.At(3, value: 14)); // mean 11, stddev 1: z = 3
        Assert.Equal(EntityProfile.AnomalyWeight * 3, profile.AnomalyScore, 1e-12);

        var before = profile.AnomalyScore;
        var stats = profile.Values;
        var z = Math.Abs(stats.ZScore(11));
        profile.Apply(Events.At(4, value: 11));
        Assert.Equal((EntityProfile.AnomalyWeight * z) + ((1 - EntityProfile.AnomalyWeight) * before), profile.AnomalyScore, 1e-12);
    }

    [Fact]
    public void Recognises_replays_per_partition()
    {
        var profile = new EntityProfile();
        Assert.False(profile.IsReplay(3, 100));
        Assert.True(profile.IsReplay(3, 100));
        Assert.True(profile.IsReplay(3, 42));
        Assert.False(profile.IsReplay(3, 101));
        Assert.False(profile.IsReplay(4, 7)); // another partition (the topic grew): new
    }
}
