using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Hosting;

namespace StreamGrains.Silo.Tests.Hosting;

public sealed class StartupChecksTests
{
    private static IConfiguration Config(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void Http_endpoints_follow_Kestrels_precedence()
    {
        Assert.Equal([("urls", "http://localhost:5000")], StartupChecks.HttpEndpoints(Config()));
        Assert.Equal([("http_ports", "http://*:8080"), ("http_ports", "http://*:8081"), ("https_ports", "https://*:8443")], StartupChecks.HttpEndpoints(Config(("http_ports", "8080;8081"), ("https_ports", "8443"))));
        Assert.Equal([("urls", "http://a:1"), ("urls", "http://b:2")], StartupChecks.HttpEndpoints(Config(("urls", "http://a:1; http://b:2"), ("http_ports", "8080"))));
        Assert.Equal(
            [("Kestrel:Endpoints:Api:Url", "http://localhost:7001")],
            StartupChecks.HttpEndpoints(Config(("Kestrel:Endpoints:Api:Url", "http://localhost:7001"), ("urls", "http://a:1"), ("http_ports", "8080"))));
    }

    [Theory]
    [InlineData("http_ports", "{0}", "http_ports: port {0} of http://*:{0} is in use")]
    [InlineData("Kestrel:Endpoints:Api:Url", "http://localhost:{0}", "Kestrel:Endpoints:Api:Url: port {0} of http://localhost:{0} is in use")]
    [InlineData("urls", "http://localhost:{0}", "urls: port {0} of http://localhost:{0} is in use")]
    public void A_taken_http_port_is_named_with_the_setting_it_came_from(string key, string value, string expected)
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var options = new StreamGrainsOptions { Cluster = { SiloPort = FreePort(), GatewayPort = FreePort() } };

        var errors = StartupChecks.PortsInUse(options, Config((key, string.Format(System.Globalization.CultureInfo.InvariantCulture, value, port))));

        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, port), Assert.Single(errors)[..string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, port).Length]);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
