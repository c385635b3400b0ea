using System.Globalization;

namespace StreamGrains.Events;

/// <summary>The kind of value an <see cref="AttributeValue"/> holds.</summary>
public enum AttributeKind : byte
{
    /// <summary>A string.</summary>
    Text = 0,

    /// <summary>A number.</summary>
    Number = 1,

    /// <summary>A boolean.</summary>
    Flag = 2,
}

/// <summary>The value of one event attribute: a string, a number or a boolean.</summary>
[GenerateSerializer, Immutable, Alias("sg.attr")]
public readonly record struct AttributeValue
{
    private AttributeValue(AttributeKind kind, string? text, double number)
    {
        Kind = kind;
        Text = text;
        Number = number;
    }

    /// <summary>The kind of value.</summary>
    [Id(0)] public AttributeKind Kind { get; init; }

    /// <summary>The string, for a <see cref="AttributeKind.Text"/>.</summary>
    [Id(1)] public string? Text { get; init; }

    /// <summary>The number (1 or 0 for a boolean).</summary>
    [Id(2)] public double Number { get; init; }

    /// <summary>The boolean, for a <see cref="AttributeKind.Flag"/>.</summary>
    public bool Flag => Kind == AttributeKind.Flag && Number != 0;

    /// <summary>A string attribute.</summary>
    /// <param name="value">The string.</param>
    public static AttributeValue FromString(string value) => new(AttributeKind.Text, value ?? throw new ArgumentNullException(nameof(value)), 0);

    /// <summary>A number attribute.</summary>
    /// <param name="value">The number.</param>
    public static AttributeValue FromNumber(double value) => new(AttributeKind.Number, null, value);

    /// <summary>A boolean attribute.</summary>
    /// <param name="value">The boolean.</param>
    public static AttributeValue FromBoolean(bool value) => new(AttributeKind.Flag, null, value ? 1 : 0);

    /// <summary>A string attribute.</summary>
    /// <param name="value">The string.</param>
    public static implicit operator AttributeValue(string value) => FromString(value);

    /// <summary>A number attribute.</summary>
    /// <param name="value">The number.</param>
    public static implicit operator AttributeValue(double value) => FromNumber(value);

    /// <summary>A boolean attribute.</summary>
    /// <param name="value">The boolean.</param>
    public static implicit operator AttributeValue(bool value) => FromBoolean(value);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        AttributeKind.Text => Text ?? string.Empty,
        AttributeKind.Flag => Flag ? "true" : "false",
        _ => Number.ToString("R", CultureInfo.InvariantCulture),
    };
}
