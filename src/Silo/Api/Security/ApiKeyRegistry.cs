using System.Security.Cryptography;
using System.Text;
using StreamGrains.Silo.Configuration;

namespace StreamGrains.Silo.Api.Security;

/// <summary>
/// The configured API keys, known only by their SHA-256 (<c>StreamGrains:Api:Keys:&lt;name&gt;:Sha256</c>): a presented
/// key is hashed and compared in constant time with each. No key configured: the API is open.
/// </summary>
internal sealed class ApiKeyRegistry
{
    private readonly List<(string Name, byte[] Hash, HashSet<string> Scopes)> _keys;

    public ApiKeyRegistry(ApiSettings settings)
    {
        _keys = settings.Keys
            .Where(k => k.Value.Sha256 is not null)
            .Select(k => (k.Key, Convert.FromHexString(k.Value.Sha256!), k.Value.Scopes.Select(s => s.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal)))
            .ToList();
    }

    /// <summary>Whether no key is configured: every route is open.</summary>
    public bool IsOpen => _keys.Count == 0;

    /// <summary>Finds the configured key <paramref name="presented"/> is.</summary>
    /// <param name="presented">The key as the client sent it.</param>
    /// <param name="name">Its name in the configuration.</param>
    /// <param name="scopes">Its scopes.</param>
    public bool TryFind(string presented, out string name, out IReadOnlySet<string> scopes)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash))
            {
                name = key.Name;
                scopes = key.Scopes;
                return true;
            }
        }

        name = string.Empty;
        scopes = new HashSet<string>();
        return false;
    }
}
