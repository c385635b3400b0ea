// The suites start brokers and whole clusters and share a static delivery log: one at a time on two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
