using CsCheck;
using StreamGrains.Profiles;

namespace StreamGrains.Grains.Tests.Profiles;

public sealed class PartitionResidentsTests
{
    private sealed record Resident(string Name);

    [Fact]
    public void Lists_the_residents_of_each_partition_until_they_leave_told_apart_by_reference()
    {
        var residents = new PartitionResidents<Resident>();
        Resident a = new("a"), b = new("b"), c = new("c"), anotherA = new("a");
        residents.Enter(3, a);
        residents.Enter(3, b);
        residents.Enter(5, c);
        residents.Enter(3, a); // again: once

        Assert.Equal([3, 5], residents.Partitions.Order());
        Assert.Equal(["a", "b"], residents.In(3).Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.Equal([c], residents.In(5));
        Assert.Empty(residents.In(4));

        residents.Leave(5, c);
        residents.Leave(3, anotherA); // an equal record, but another activation: it stays
        residents.Leave(4, a); // not under that partition: nothing happens
        Assert.Equal([3], residents.Partitions);
        Assert.Equal(["a", "b"], residents.In(3).Select(r => r.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Agrees_with_a_plain_set_of_partition_and_resident_pairs_over_any_sequence_of_enters_and_leaves()
    {
        Resident[] pool = [new("a"), new("b"), new("c"), new("d"), new("a")]; // the last equals the first: by reference, another
        Gen.Select(Gen.Bool, Gen.Int[0, 3], Gen.Int[0, pool.Length - 1]).Array[0, 60].Sample(operations =>
        {
            var residents = new PartitionResidents<Resident>();
            var reference = new List<(int Partition, Resident Resident)>();
            foreach (var (enter, partition, index) in operations)
            {
                var resident = pool[index];
                var at = reference.FindIndex(r => r.Partition == partition && ReferenceEquals(r.Resident, resident));
                if (enter)
                {
                    residents.Enter(partition, resident);
                    if (at < 0)
                    {
                        reference.Add((partition, resident));
                    }
                }
                else
                {
                    residents.Leave(partition, resident);
                    if (at >= 0)
                    {
                        reference.RemoveAt(at);
                    }
                }
            }

            Assert.Equal(reference.Select(r => r.Partition).Distinct().Order(), residents.Partitions.Order());
            for (var partition = 0; partition <= 3; partition++)
            {
                int Index(Resident resident) => Array.FindIndex(pool, p => ReferenceEquals(p, resident));
                Assert.Equal(reference.Where(r => r.Partition == partition).Select(r => Index(r.Resident)).Order(), residents.In(partition).Select(Index).Order());
            }
        });
    }
}
