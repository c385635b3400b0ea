using StreamGrains.Kafka.Balancing;

namespace StreamGrains.Kafka.Tests.Balancing;

public sealed class KafkaPartitionAssignmentTests
{
    private static List<string> Silos(int count, int generation = 1) =>
        Enumerable.Range(0, count).Select(i => $"127.0.0.1:{11111 + i}@{generation}{i}").ToList();

    private static List<string> Queues(int count) => Enumerable.Range(0, count).Select(i => $"events-{i}").ToList();

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(16)]
    [InlineData(5)]
    public void Every_queue_goes_to_exactly_one_silo_and_every_silo_gets_floor_or_ceil(int partitions)
    {
        for (var silos = 1; silos <= 10; silos++)
        {
            var assignment = KafkaPartitionAssignment.Assign(Queues(partitions), Silos(silos), q => q);
            Assert.Equal(Queues(partitions).Order(), assignment.Values.SelectMany(q => q).Order());
            Assert.All(assignment.Values, q => Assert.InRange(q.Count, partitions / silos, (partitions + silos - 1) / silos));
            Assert.Equal(silos, assignment.Count);
        }
    }

    [Fact]
    public void Every_silo_computes_the_same_assignment_whatever_order_it_sees_the_silos_in()
    {
        var silos = Silos(5);
        var expected = KafkaPartitionAssignment.Assign(Queues(16), silos, q => q);
        var shuffled = silos.OrderBy(s => s.GetHashCode(StringComparison.Ordinal)).Reverse().ToList();
        var again = KafkaPartitionAssignment.Assign(Queues(16), shuffled, q => q);
        Assert.All(expected, e => Assert.Equal(e.Value, again[e.Key]));
    }

    [Theory]
    [InlineData(8, 3)]
    [InlineData(16, 4)]
    [InlineData(12, 5)]
    public void A_silo_that_leaves_or_joins_moves_few_partitions_besides_its_own(int partitions, int silos)
    {
        var all = Silos(silos);
        var before = KafkaPartitionAssignment.Assign(Queues(partitions), all, q => q);
        var owner = before.SelectMany(a => a.Value.Select(q => (q, a.Key))).ToDictionary(x => x.q, x => x.Key);

        foreach (var leaving in all)
        {
            var after = KafkaPartitionAssignment.Assign(Queues(partitions), all.Where(s => s != leaving).ToList(), q => q);
            var moved = after.SelectMany(a => a.Value.Where(q => owner[q] != a.Key && owner[q] != leaving)).Count();
            // Only the leaver's partitions must move; shares changing from floor to ceil may move one more per silo.
            Assert.True(moved <= silos - 1, $"{moved} partitions of survivors moved when {leaving} left");
        }

        var joined = Silos(silos + 1, generation: 2);
        var grown = KafkaPartitionAssignment.Assign(Queues(partitions), all.Append(joined[^1]).ToList(), q => q);
        var movedToOthers = grown.Where(a => a.Key != joined[^1]).SelectMany(a => a.Value.Where(q => owner[q] != a.Key)).Count();
        Assert.True(movedToOthers <= silos, $"{movedToOthers} partitions moved between the old silos when one joined");
    }
}
