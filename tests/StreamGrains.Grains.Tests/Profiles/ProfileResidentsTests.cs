using CsCheck;
using StreamGrains.Profiles;

namespace StreamGrains.Grains.Tests.Profiles;

public sealed class ProfileResidentsTests
{
    [Fact]
    public void Lists_the_profiles_of_each_partition_until_they_leave()
    {
        var residents = new ProfileResidents();
        residents.Enter(3, "a");
        residents.Enter(3, "b");
        residents.Enter(5, "c");
        residents.Enter(3, "a"); // again: once

        Assert.Equal([3, 5], residents.Partitions.Order());
        Assert.Equal(["a", "b"], residents.In(3).Order(StringComparer.Ordinal));
        Assert.Equal(["c"], residents.In(5));
        Assert.Empty(residents.In(4));

        residents.Leave(5, "c");
        residents.Leave(3, "x"); // never entered: nothing happens
        residents.Leave(4, "a"); // not under that partition: nothing happens
        Assert.Equal([3], residents.Partitions);
        Assert.Equal(["a", "b"], residents.In(3).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Agrees_with_a_plain_set_of_entity_and_partition_pairs_over_any_sequence_of_enters_and_leaves()
    {
        var operation = Gen.Select(Gen.Bool, Gen.Int[0, 3], Gen.Char['a', 'e']);
        operation.Array[0, 60].Sample(operations =>
        {
            var residents = new ProfileResidents();
            var reference = new HashSet<(int Partition, string Entity)>();
            foreach (var (enter, partition, letter) in operations)
            {
                var entity = letter.ToString();
                if (enter)
                {
                    residents.Enter(partition, entity);
                    reference.Add((partition, entity));
                }
                else
                {
                    residents.Leave(partition, entity);
                    reference.Remove((partition, entity));
                }
            }

            Assert.Equal(reference.Select(r => r.Partition).Distinct().Order(), residents.Partitions.Order());
            for (var partition = 0; partition <= 3; partition++)
            {
                Assert.Equal(
                    reference.Where(r => r.Partition == partition).Select(r => r.Entity).Order(StringComparer.Ordinal),
                    residents.In(partition).Order(StringComparer.Ordinal));
            }
        });
    }
}
