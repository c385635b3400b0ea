using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;
using StreamGrains.Silo.Tests.Infrastructure;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace StreamGrains.Silo.Tests.Deployment;

/// <summary>
/// docker-compose.yml cannot run here (no Docker engine): these tests read it and hold it to the code: its services and
/// their wiring, every setting it gives the silos (through the silo's own unknown-settings check and validator), the
/// topics it creates, the ports, the mounted files, and the build context's exclusions.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string[] Silos = ["silo1", "silo2", "silo3"];

    private static readonly Lazy<Dictionary<string, object>> Compose = new(() =>
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docker-compose.yml")));
        var deserializer = new DeserializerBuilder().Build();
        return Map(deserializer.Deserialize<object>(new MergingParser(new Parser(reader)))!);
    });

    private static Dictionary<string, object> Services => Map(Compose.Value["services"]);

    [Fact]
    public void It_has_Kafka_with_its_topics_PostgreSQL_three_silos_behind_nginx_Prometheus_and_Grafana()
    {
        Assert.Equal(
            ["grafana", "kafka", "kafka-topics", "nginx", "postgres", "prometheus", "silo1", "silo2", "silo3"],
            Services.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("broker,controller", Text(Map(Services["kafka"])["environment"], "KAFKA_PROCESS_ROLES")); // KRaft: no ZooKeeper

        // Every depends_on names a service, and the silos start after the topics exist and PostgreSQL is healthy.
        foreach (var (name, service) in Services)
        {
            foreach (var dependency in Map(service).TryGetValue("depends_on", out var depends) ? Map(depends).Keys.ToList() : [])
            {
                Assert.True(Services.ContainsKey(dependency), $"{name} depends on {dependency}, which is not a service");
            }
        }

        foreach (var silo in Silos)
        {
            var service = Map(Services[silo]);
            var depends = Map(service["depends_on"]);
            Assert.Equal("service_completed_successfully", Map(depends["kafka-topics"])["condition"]);
            Assert.Equal("service_healthy", Map(depends["postgres"])["condition"]);
            Assert.Equal("src/Silo/Dockerfile", Map(service["build"])["dockerfile"]);
            var check = string.Join(' ', List(Map(service["healthcheck"])["test"]));
            Assert.Contains("http://localhost:8080/health/ready", check, StringComparison.Ordinal);
        }

        var nginx = Map(Services["nginx"]);
        Assert.All(Silos, silo => Assert.Equal("service_healthy", Map(Map(nginx["depends_on"])[silo])["condition"]));

        // The silos trust nginx's X-Forwarded-For (so the rate limit counts clients, not nginx), and nginx alone.
        var nginxAddress = (string)Map(Map(nginx["networks"])["default"])["ipv4_address"];
        var pool = Map(((IEnumerable<object>)Map(Map(Map(Compose.Value["networks"])["default"])["ipam"])["config"]).Single());
        var address = System.Net.IPAddress.Parse(nginxAddress);
        Assert.True(System.Net.IPNetwork.Parse((string)pool["subnet"]).Contains(address), $"{nginxAddress} is outside the network's subnet");
        Assert.False(System.Net.IPNetwork.Parse((string)pool["ip_range"]).Contains(address), $"{nginxAddress} is in the range Docker hands out");
        Assert.All(Silos, silo => Assert.Equal(nginxAddress, (string)Map(Map(Services[silo])["environment"])["StreamGrains__Api__TrustedProxies__0"]));
        Assert.All(Silos, silo => Assert.DoesNotContain("StreamGrains__Api__TrustedProxies__1", Map(Map(Services[silo])["environment"]).Keys));
    }

    [Fact]
    public void Every_setting_the_silos_get_is_one_the_silo_reads_and_accepts()
    {
        foreach (var silo in Silos)
        {
            var environment = Map(Map(Services[silo])["environment"]).ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value.ToString());
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(environment).Build();
            Assert.Empty(UnknownSettings.Find(configuration, []));
            var options = configuration.GetSection(StreamGrainsOptions.SectionName).Get<StreamGrainsOptions>() ?? new StreamGrainsOptions();
            Assert.Empty(StreamGrainsOptionsValidator.Errors(options, configuration.GetConnectionString(StorageSettings.ConnectionStringName)));
            Assert.Equal(StorageKind.Postgres, options.Storage.ParsedKind);
            Assert.Equal("kafka:9092", options.Kafka.BootstrapServers);

            // The connection string points at the compose PostgreSQL, with its user, password and database.
            var postgres = Map(Map(Services["postgres"])["environment"]);
            var connection = configuration.GetConnectionString(StorageSettings.ConnectionStringName)!;
            Assert.Contains("Host=postgres", connection, StringComparison.Ordinal);
            Assert.Contains($"Username={postgres["POSTGRES_USER"]}", connection, StringComparison.Ordinal);
            Assert.Contains($"Password={postgres["POSTGRES_PASSWORD"]}", connection, StringComparison.Ordinal);
            Assert.Contains($"Database={postgres["POSTGRES_DB"]}", connection, StringComparison.Ordinal);
        }

        // Demo traffic from exactly one silo.
        Assert.Equal(["silo1"], Silos.Where(s => Text(Map(Services[s])["environment"], "StreamGrains__Demo__Enabled") == "true"));
    }

    [Fact]
    public void The_topics_it_creates_are_the_platform_topics()
    {
        var command = string.Join('\n', List(Map(Services["kafka-topics"])["command"]));
        var created = Regex.Match(command, @"for t in ([^;]+);").Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(KafkaEnvironment.TopicsOf(new KafkaSettings()).Order(StringComparer.Ordinal), created.Order(StringComparer.Ordinal));
        Assert.Equal("false", Text(Map(Services["kafka"])["environment"], "KAFKA_AUTO_CREATE_TOPICS_ENABLE"));
    }

    [Fact]
    public void Ports_mounts_load_balancer_and_scrape_targets_agree_with_the_files_they_name()
    {
        // The silos listen on 8080 (the Dockerfile), which each publishes and nginx and Prometheus call.
        var dockerfile = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "Silo", "Dockerfile"));
        Assert.Contains("ENV ASPNETCORE_URLS=http://0.0.0.0:8080", dockerfile, StringComparison.Ordinal);
        Assert.Contains("curl", dockerfile, StringComparison.Ordinal); // the health check's tool
        Assert.Equal(["8081:8080", "8082:8080", "8083:8080"], Silos.SelectMany(s => List(Map(Services[s])["ports"])));
        Assert.Equal(["8080:80"], List(Map(Services["nginx"])["ports"]));

        // Every mounted file exists.
        foreach (var (name, service) in Services)
        {
            foreach (var volume in Map(service).TryGetValue("volumes", out var volumes) ? List(volumes) : [])
            {
                var source = volume.Split(':')[0];
                if (source.StartsWith("./", StringComparison.Ordinal))
                {
                    Assert.True(Path.Exists(Path.Combine(RepositoryPaths.Root, source[2..])), $"{name} mounts {source}, which does not exist");
                }
            }
        }

        // nginx's upstreams are the silo services on 8080, and its site is mounted as the default server.
        Assert.Contains("./deploy/nginx/streamgrains.conf:/etc/nginx/conf.d/default.conf:ro", List(Map(Services["nginx"])["volumes"]));
        var site = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "deploy", "nginx", "streamgrains.conf"));
        Assert.Equal(Silos.Select(s => $"{s}:8080"), Regex.Matches(site, @"^\s*server (\S+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value));
        Assert.Contains("listen 80;", site, StringComparison.Ordinal);

        var prometheus = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "deploy", "prometheus", "prometheus.yml"));
        Assert.Contains("""targets: ["silo1:8080", "silo2:8080", "silo3:8080"]""", prometheus, StringComparison.Ordinal);
    }

    [Fact]
    public void The_build_context_leaves_out_build_outputs()
    {
        var ignored = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".dockerignore")).Select(l => l.Trim()).ToList();
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
    }

    private static Dictionary<string, object> Map(object value) =>
        ((IDictionary<object, object>)value).ToDictionary(e => (string)e.Key, e => e.Value ?? string.Empty, StringComparer.Ordinal);

    private static List<string> List(object value) => ((IEnumerable<object>)value).Select(v => v.ToString()!).ToList();

    private static string Text(object map, string key) => Map(map).TryGetValue(key, out var value) ? value.ToString()! : string.Empty;
}
