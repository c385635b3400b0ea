using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace StreamGrains.Testing;

/// <summary>
/// A throwaway PostgreSQL server for tests: initdb into a temporary folder (as the <c>postgres</c> user when running as
/// root, since the server refuses root), started on a free loopback port, removed when the test process ends. One
/// server is shared by a test process (<see cref="Shared"/>); each test takes a database of its own.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(() => StartAsync(fastAndUnsafe: true), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly string _bin;
    private readonly string _dataDir;
    private readonly bool _asPostgresUser;
    private int _databases;

    private PostgresServer(string bin, string dataDir, int port, bool asPostgresUser)
    {
        _bin = bin;
        _dataDir = dataDir;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    /// <summary>The server the tests of this process share, started on first use.</summary>
    public static Task<PostgresServer> Shared => SharedServer.Value;

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>True while the server runs.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Where PostgreSQL's programs are (the newest installed version).</summary>
    public static string? FindBin()
    {
        const string root = "/usr/lib/postgresql";
        return Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var major) ? major : -1) // 16 before 9
                .FirstOrDefault()
            : null;
    }

    /// <summary>Starts a new server.</summary>
    /// <param name="fastAndUnsafe">No fsync (tests); false keeps PostgreSQL's durable defaults (benchmarks).</param>
    public static async Task<PostgresServer> StartAsync(bool fastAndUnsafe = true)
    {
        var bin = FindBin() ?? throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql.");
        var dataDir = Path.Combine(Path.GetTempPath(), $"sg-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        var asPostgresUser = Environment.UserName == "root";
        if (asPostgresUser)
        {
            await RunAsync("chown", ["postgres:postgres", dataDir], asPostgres: false).ConfigureAwait(false);
        }

        var server = new PostgresServer(bin, dataDir, FreePort(), asPostgresUser);
        await server.RunBinAsync("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]).ConfigureAwait(false);
        var settings = new List<string>
        {
            "listen_addresses = '127.0.0.1'",
            $"port = {server.Port}",
            $"unix_socket_directories = '{dataDir}'",
            "max_connections = 300",
        };
        if (fastAndUnsafe)
        {
            settings.AddRange(["fsync = off", "synchronous_commit = off", "full_page_writes = off"]);
        }

        await File.AppendAllLinesAsync(Path.Combine(dataDir, "postgresql.conf"), settings).ConfigureAwait(false);
        await server.StartAgainAsync().ConfigureAwait(false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return server;
    }

    /// <summary>A connection string to <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=5;Command Timeout=60";

    /// <summary>Creates a database of its own for a test and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        return ConnectionString(name);
    }

    /// <summary>Stops the server (fast shutdown: clients are disconnected); <see cref="StartAgainAsync"/> brings it back on the same port with its data.</summary>
    public async Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunBinAsync("pg_ctl", ["-D", _dataDir, "-m", "fast", "-w", "stop"]).ConfigureAwait(false);
        IsRunning = false;
    }

    /// <summary>Starts the server (again).</summary>
    public async Task StartAgainAsync()
    {
        await RunBinAsync("pg_ctl", ["-D", _dataDir, "-l", Path.Combine(_dataDir, "server.log"), "-w", "-t", "60", "start"]).ConfigureAwait(false);
        IsRunning = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            try
            {
                NpgsqlConnection.ClearAllPools();
                await RunBinAsync("pg_ctl", ["-D", _dataDir, "-m", "immediate", "-w", "stop"]).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            IsRunning = false;
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private Task RunBinAsync(string program, IReadOnlyList<string> arguments) => RunAsync(Path.Combine(_bin, program), arguments, _asPostgresUser);

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var info = asPostgres ? new ProcessStartInfo("runuser") : new ProcessStartInfo(program);
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                info.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await errors.ConfigureAwait(false)} {await output.ConfigureAwait(false)}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
