namespace StreamGrains.Kafka.Publishing;

/// <summary>
/// Kafka is away and the spill log holds its <see cref="SpillingProducerOptions.MaxSpillBytes"/> already: the records of
/// the call were not taken, none of them (publish them again later). Nothing taken before is lost.
/// </summary>
public sealed class SpillLogFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="pendingBytes">The bytes waiting in the log.</param>
    /// <param name="maxBytes">The log's bound.</param>
    public SpillLogFullException(long pendingBytes, long maxBytes)
        : base($"Kafka is away and the spill log is full ({pendingBytes} bytes waiting, at most {maxBytes}): nothing of this call was taken; publish it again once Kafka answers.")
    {
        PendingBytes = pendingBytes;
        MaxBytes = maxBytes;
    }

    /// <summary>Creates the exception with a message.</summary>
    public SpillLogFullException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public SpillLogFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SpillLogFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The bytes waiting in the log.</summary>
    public long PendingBytes { get; }

    /// <summary>The log's bound.</summary>
    public long MaxBytes { get; }
}
