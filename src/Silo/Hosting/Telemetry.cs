using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StreamGrains.Kafka.Statistics;
using StreamGrains.Kafka.Tracing;
using StreamGrains.Silo.Configuration;

namespace StreamGrains.Silo.Hosting;

/// <summary>
/// OpenTelemetry for the silo: the platform's meter <c>StreamGrains</c>, Orleans' meter and application spans, ASP.NET Core,
/// HttpClient and .NET runtime instrumentation; a Prometheus scrape endpoint at <c>/metrics</c> and OTLP export, as
/// configured under <c>StreamGrains:Telemetry</c>.
/// </summary>
internal static class Telemetry
{
    public const string OrleansMeter = "Microsoft.Orleans";
    public const string OrleansApplicationSource = "Microsoft.Orleans.Application";

    public static void AddStreamGrainsTelemetry(this WebApplicationBuilder builder, TelemetrySettings settings, string instanceId)
    {
        var otlp = settings.Otlp;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(settings.ServiceName, serviceVersion: Api.InfoEndpoints.Version, serviceInstanceId: instanceId))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(KafkaStreamMetrics.MeterName, OrleansMeter)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation();
                if (settings.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlp.Enabled && otlp.Metrics)
                {
                    metrics.AddOtlpExporter(o => Configure(o, otlp));
                }
            })
            .WithTracing(tracing =>
            {
                tracing.SetSampler(new StreamGrainsSampler(settings.TraceSampleRatio))
                    .AddSource(KafkaTracing.ActivitySourceName, OrleansApplicationSource)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/health"))
                    .AddHttpClientInstrumentation();
                if (otlp.Enabled && otlp.Traces)
                {
                    tracing.AddOtlpExporter(o => Configure(o, otlp));
                }
            });

        if (otlp.Enabled && otlp.Logs)
        {
            telemetry.WithLogging(logging => logging.AddOtlpExporter(o => Configure(o, otlp)), options =>
            {
                options.IncludeScopes = true;
                options.IncludeFormattedMessage = true;
            });
        }
    }

    public static void MapStreamGrainsTelemetry(this WebApplication app, TelemetrySettings settings)
    {
        if (settings.Prometheus)
        {
            var metrics = app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new Microsoft.AspNetCore.Routing.HttpMethodMetadata(["GET", "HEAD"]));
            if (!string.IsNullOrWhiteSpace(settings.MetricsScope))
            {
                metrics.RequireAuthorization(Api.Security.ApiScopes.Policy(settings.MetricsScope)).RequireRateLimiting(ApiHosting.RateLimitPolicy); // keys are checked here too: guesses count
            }
        }
    }

    private static void Configure(OtlpExporterOptions options, OtlpSettings settings)
    {
        options.Endpoint = new Uri(settings.Endpoint!);
        options.Protocol = string.Equals(settings.Protocol, "grpc", StringComparison.OrdinalIgnoreCase) ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
    }
}
