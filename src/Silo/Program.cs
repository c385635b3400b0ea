using StreamGrains.Silo.Hosting;
using StreamGrains.Silo.Kafka;

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
    await app.RunAsync();
}

return 0;
