using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;
using StreamGrains.Events;

namespace StreamGrains.Cli.Commands;

/// <summary>
/// <c>streamgrains produce --rate N --entities N --duration 30s</c>: publishes generated events through the API at a
/// steady rate (in batches every 100 ms), with a progress bar and the rate achieved. About one value in fifty is large
/// (above 900), so rules on <c>value</c> have something to decide.
/// </summary>
internal sealed class ProduceCommand : ClientCommand<ProduceCommand.Settings>
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    /// <summary>Events per request: well under the API's default <c>Api:MaxEventsPerRequest</c> (10,000).</summary>
    private const int MaxPerRequest = 1_000;

    internal sealed class Settings : ClientSettings
    {
        [CommandOption("--rate <EVENTS_PER_SECOND>")]
        [Description("Events per second (default 100).")]
        public int Rate { get; init; } = 100;

        [CommandOption("--entities <N>")]
        [Description("Distinct entities, cli-0 to cli-(N-1) (default 100).")]
        public int Entities { get; init; } = 100;

        [CommandOption("--duration <DURATION>")]
        [Description("How long: 30s, 2m, 1h, 500ms or 00:00:30 (default 10s).")]
        public string Duration { get; init; } = "10s";

        [CommandOption("--type <TYPE>")]
        [Description("The events' type (default payment).")]
        public string Type { get; init; } = "payment";

        [CommandOption("--seed <SEED>")]
        [Description("Seed of the generated values, for repeatable runs.")]
        public int? Seed { get; init; }

        public TimeSpan ParsedDuration => Durations.TryParse(Duration, out var duration) ? duration : TimeSpan.Zero;

        public override ValidationResult Validate()
        {
            if (Rate is < 1 or > 1_000_000)
            {
                return ValidationResult.Error($"--rate must be 1 to 1000000, was {Rate}.");
            }

            if (Entities is < 1 or > 10_000_000)
            {
                return ValidationResult.Error($"--entities must be 1 to 10000000, was {Entities}.");
            }

            return ParsedDuration <= TimeSpan.Zero ? ValidationResult.Error($"--duration: '{Duration}' is not a duration (30s, 2m, 1h, 500ms, 00:00:30).") : base.Validate();
        }
    }

    protected override async Task<int> RunAsync(StreamGrainsClient client, Settings settings, CancellationToken cancellationToken)
    {
        var random = settings.Seed is { } seed ? new Random(seed) : new Random();
        var total = (long)Math.Round(settings.Rate * settings.ParsedDuration.TotalSeconds);
        long sent = 0, spilled = 0;
        var watch = Stopwatch.StartNew();

        async Task RunAsync(Action<long> progress)
        {
            while (sent < total && !cancellationToken.IsCancellationRequested)
            {
                var due = Math.Min(total, (long)(settings.Rate * watch.Elapsed.TotalSeconds) + 1);
                if (due > sent)
                {
                    var batch = new List<StreamEvent>((int)(due - sent));
                    for (var i = sent; i < due; i++)
                    {
                        batch.Add(new StreamEvent
                        {
                            Id = $"cli-{watch.ElapsedTicks:x}-{i}",
                            Entity = $"cli-{random.Next(settings.Entities)}",
                            Type = settings.Type,
                            Timestamp = DateTimeOffset.UtcNow,
                            Value = random.Next(50) == 0 ? 900 + random.Next(100) : random.Next(1, 500),
                        });
                    }

                    foreach (var chunk in batch.Chunk(MaxPerRequest))
                    {
                        spilled += (await client.PublishAsync(chunk, cancellationToken).ConfigureAwait(false)).Spilled;
                    }

                    sent += batch.Count;
                    progress(sent);
                }

                await Task.Delay(Tick, cancellationToken).ConfigureAwait(false);
            }
        }

        if (settings.Json || Console.IsOutputRedirected)
        {
            await RunAsync(_ => { }).ConfigureAwait(false);
        }
        else
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("producing", maxValue: total);
                    await RunAsync(n =>
                    {
                        task.Value = n;
                        task.Description = $"{n:N0} events, {n / Math.Max(0.001, watch.Elapsed.TotalSeconds):N0}/s";
                    }).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        if (settings.Json)
        {
            WriteJson(new { sent, spilled, seconds = Math.Round(seconds, 3), rate = Math.Round(sent / seconds, 1) });
        }
        else
        {
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Sent [bold]{sent:N0}[/] events in {seconds:N1} s ({sent / seconds:N0}/s){(spilled > 0 ? $", {spilled:N0} of them spilled by the silo while Kafka was away" : string.Empty)}."));
        }

        return 0;
    }
}
