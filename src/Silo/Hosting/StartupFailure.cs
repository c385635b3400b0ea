using System.Net.Sockets;

namespace StreamGrains.Silo.Hosting;

/// <summary>Turns the exceptions a silo can fail to start with into one line for the operator, for those that have one.</summary>
internal static class StartupFailure
{
    /// <summary>The reason to print, or null for an exception that is a bug (and keeps its stack trace).</summary>
    public static string? Describe(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case OrleansConfigurationException configuration:
                    return configuration.Message.ReplaceLineEndings(" ");
                case SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }:
                case IOException when ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase):
                    return $"{ex.Message} Choose other ports with --urls, --silo-port and --gateway-port.";
            }
        }

        return null;
    }
}
