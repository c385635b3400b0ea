using StreamGrains.Silo.Hosting;
using StreamGrains.Silo.Kafka;

if (args.Length > 0 && args[0] == "migrate")
{
    // Only bring PostgreSQL to this build's schema, then stop: for deployments that migrate before rolling silos out.
    return await StreamGrainsSilo.MigrateAsync(args[1..]);
}

WebApplication app;
try
{
    app = StreamGrainsSilo.Build(args);
}
catch (StreamGrainsSilo.ConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

// The embedded broker (if any) outlives the host, so that grains and the demo can flush before it goes.
using var kafka = app.Services.GetRequiredService<KafkaEnvironment>();
await using (app)
{
    try
    {
        await app.RunAsync();
    }
    catch (Exception ex) when (StartupFailure.Describe(ex) is { } reason)
    {
        // What the checks before start-up could not see (a port taken meanwhile, an Orleans setting): one line, exit 2.
        await Console.Error.WriteLineAsync($"The silo could not start: {reason}");
        return 2;
    }
}

return 0;
