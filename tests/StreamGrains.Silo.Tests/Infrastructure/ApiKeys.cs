using System.Security.Cryptography;
using System.Text;

namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>API keys as the configuration wants them.</summary>
internal static class ApiKeys
{
    /// <summary>The value of <c>StreamGrains:Api:Keys:&lt;name&gt;:Sha256</c> for <paramref name="key"/>: its SHA-256 in hex.</summary>
    public static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
