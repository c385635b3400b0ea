namespace StreamGrains.Kafka.Publishing;

/// <summary>
/// The spill log is at its <see cref="SpillingProducerOptions.MaxSpillBytes"/> (Kafka away, or the log still being sent
/// after it came back): the records of the call were not taken, none of them (publish them again later). Nothing taken
/// before is lost.
/// </summary>
public sealed class SpillLogFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="logBytes">The bytes of the log on disk.</param>
    /// <param name="maxBytes">The log's bound.</param>
    public SpillLogFullException(long logBytes, long maxBytes)
        : base($"The spill log is full ({logBytes} bytes, at most {maxBytes}; Kafka is away, or the log is still being sent): nothing of this call was taken; publish it again later.")
    {
        LogBytes = logBytes;
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

    /// <summary>The bytes of the log on disk.</summary>
    public long LogBytes { get; }

    /// <summary>The log's bound.</summary>
    public long MaxBytes { get; }
}
