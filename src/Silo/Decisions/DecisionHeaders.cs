using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace StreamGrains.Silo.Decisions;

/// <summary>
/// The headers a decision record carries besides its JSON: the input partition and offset of the event it is about,
/// by which a replay recognises decisions already published.
/// </summary>
internal static class DecisionHeaders
{
    public const string SourcePartition = "sg-source-partition";
    public const string SourceOffset = "sg-source-offset";

    public static Headers Of(int partition, long offset) => new()
    {
        { SourcePartition, Encoding.ASCII.GetBytes(partition.ToString(CultureInfo.InvariantCulture)) },
        { SourceOffset, Encoding.ASCII.GetBytes(offset.ToString(CultureInfo.InvariantCulture)) },
    };

    public static bool TryRead(Headers? headers, out int partition, out long offset)
    {
        partition = -1;
        offset = -1;
        return headers is not null &&
               headers.TryGetLastBytes(SourcePartition, out var p) && int.TryParse(Encoding.ASCII.GetString(p), NumberStyles.None, CultureInfo.InvariantCulture, out partition) &&
               headers.TryGetLastBytes(SourceOffset, out var o) && long.TryParse(Encoding.ASCII.GetString(o), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }
}
