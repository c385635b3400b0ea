using Spectre.Console.Cli;
using StreamGrains.Cli.Commands;

// streamgrains: the StreamGrains command line, on the client SDK. Every command takes --url, --api-key and --json.
var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("streamgrains");
    config.AddCommand<ProduceCommand>("produce").WithDescription("Publish generated events at a rate, with a live progress bar.")
        .WithExample("produce", "--rate", "500", "--entities", "1000", "--duration", "30s");
    config.AddCommand<ProfileCommand>("profile").WithDescription("An entity's profile.").WithExample("profile", "card-7");
    config.AddCommand<AlertsCommand>("alerts").WithDescription("Recent decisions, newest first; --follow streams them live.")
        .WithExample("alerts", "--rule", "demo-large-payment", "--follow");
    config.AddCommand<AggregatesCommand>("aggregates").WithDescription("A key's windows of an aggregation.").WithExample("aggregates", "demo-payments-per-card", "card-7");
    config.AddCommand<TopCommand>("top").WithDescription("The keys with the highest counts in an aggregation's latest final window.").WithExample("top", "demo-clicks-per-page", "--top", "5");
    config.AddCommand<SessionsCommand>("sessions").WithDescription("A key's sessions of a session aggregation.").WithExample("sessions", "demo-user-sessions", "user-12");
    config.AddCommand<StatsCommand>("stats").WithDescription("Events processed, decisions, dead letters, latency: the answering silo and the cluster.");
    config.AddCommand<InfoCommand>("info").WithDescription("The answering silo: version, Kafka topics and partitions, storage.");
});

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // stop the command, not the process
    stop.Cancel();
};

return await app.RunAsync(args, stop.Token).ConfigureAwait(false);
