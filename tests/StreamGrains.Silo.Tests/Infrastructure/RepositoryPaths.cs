namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>Finds the build outputs of the programs the tests start as real processes.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration the tests were built in (Debug or Release), read from the test assembly's path.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory).Parent?.Parent?.Name is { } name && name is "Debug" or "Release" ? name : "Debug";

    public static string SiloDll => Output("src/Silo", "StreamGrains.Silo.dll");

    public static string KafkaBrokerDll => Output("src/KafkaBroker", "StreamGrains.KafkaBroker.dll");

    public static string CliDll => Output("src/Cli", "streamgrains.dll");

    private static string Output(string project, string file)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first.", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StreamGrains.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("StreamGrains.sln not found above " + AppContext.BaseDirectory);
    }
}
