using System.Text;
using StreamGrains.Events;

namespace StreamGrains.GrainInterfaces.Tests.Events;

public sealed class StreamEventJsonTests
{
    private static bool Parse(string json, string? key, out StreamEvent? evt, out EventRejection? rejection) =>
        StreamEventJson.TryParse(Encoding.UTF8.GetBytes(json), key, out evt, out rejection);

    [Theory]
    [InlineData("""{"type": "t"}""", "entity,ts")]
    [InlineData("""{"entity": "", "type": "t", "ts": "2026-01-01T00:00:00Z"}""", "entity")]
    [InlineData("""{"entity": "e", "type": 5, "ts": "2026-01-01T00:00:00Z"}""", "type")]
    [InlineData("""{"entity": "e", "type": "t", "ts": "yesterday"}""", "ts")]
    [InlineData("""{"entity": "e", "type": "t", "ts": "2026-01-01T00:00:00Z", "value": true}""", "value")]
    [InlineData("""{"entity": "e", "type": "t", "ts": "2026-01-01T00:00:00Z", "attrs": {"a": [1]}}""", "attrs")]
    [InlineData("""{"id": "", "entity": "e", "type": "t", "ts": "2026-01-01T00:00:00Z"}""", "id")]
    public void A_rejection_names_the_fields_at_fault(string json, string fields)
    {
        Assert.False(StreamEventJson.TryParse(System.Text.Encoding.UTF8.GetBytes(json), key: null, out _, out var rejection));
        Assert.Equal(fields.Split(','), rejection.Fields);
    }

    [Fact]
    public void Parses_the_example_of_the_contract()
    {
        const string json = """{"id": "evt-1", "entity": "card-42", "type": "payment", "ts": "2026-11-24T10:00:00.123Z", "value": 12.5, "attrs": {"merchant": "m-7", "country": "DE", "amountCents": 1250, "online": true}}""";

        Assert.True(Parse(json, "card-42", out var evt, out var rejection), rejection?.ToString());
        Assert.Equal("evt-1", evt!.Id);
        Assert.Equal("card-42", evt.Entity);
        Assert.Equal("payment", evt.Type);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 10, 0, 0, 123, TimeSpan.Zero), evt.Timestamp);
        Assert.Equal(12.5, evt.Value);
        Assert.Equal("m-7", evt.Attribute("merchant"));
        Assert.Equal(AttributeKind.Number, evt.Attributes["amountCents"].Kind);
        Assert.Equal(1250, evt.Attributes["amountCents"].Number);
        Assert.True(evt.Attributes["online"].Flag);
        Assert.Equal("true", evt.Attribute("online"));
    }

    [Fact]
    public void Uses_the_entity_field_when_the_record_has_no_key()
    {
        Assert.True(Parse("""{"entity":"user-1","type":"click","ts":1764000000123}""", null, out var evt, out _));
        Assert.Equal("user-1", evt!.Entity);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1764000000123), evt.Timestamp);
        Assert.Null(evt.Id);
        Assert.Null(evt.Value);
        Assert.Empty(evt.Attributes);
    }

    [Fact]
    public void Uses_the_key_as_entity_when_the_field_is_absent()
    {
        Assert.True(Parse("""{"type":"click","ts":"2026-11-24T10:00:00+01:00"}""", "user-9", out var evt, out _));
        Assert.Equal("user-9", evt!.Entity);
        Assert.Equal(TimeSpan.FromHours(1), evt.Timestamp.Offset);
    }

    [Theory]
    [InlineData("not json", EventRejection.InvalidJson)]
    [InlineData("[1,2]", EventRejection.InvalidJson)]
    [InlineData("""{"entity":"a","type":"t","ts":1}{}""", EventRejection.InvalidJson)]
    [InlineData("""{"entity":"a","type":"t",""", EventRejection.InvalidJson)]
    [InlineData("""{"type":"t","ts":1}""", EventRejection.MissingField)]
    [InlineData("""{"entity":"a","ts":1}""", EventRejection.MissingField)]
    [InlineData("""{"entity":"a","type":"t"}""", EventRejection.MissingField)]
    [InlineData("""{"entity":"","type":"t","ts":1}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":7,"type":"t","ts":1}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":"yesterday"}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":"2026-11-24T10:00:00"}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":1.5}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":-1}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":1,"value":"12"}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":1,"attrs":{"nested":{"x":1}}}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":1,"attrs":{"list":[1]}}""", EventRejection.InvalidField)]
    [InlineData("""{"entity":"a","type":"t","ts":1,"attrs":[]}""", EventRejection.InvalidField)]
    public void Rejects_records_that_break_the_contract_with_a_reason(string json, string reason)
    {
        Assert.False(Parse(json, null, out var evt, out var rejection));
        Assert.Null(evt);
        Assert.Equal(reason, rejection!.Reason);
        Assert.False(string.IsNullOrWhiteSpace(rejection.Detail));
    }

    [Fact]
    public void Rejects_fields_over_their_length_limits()
    {
        var longEntity = new string('e', StreamEvent.MaxEntityLength + 1);
        var longType = new string('t', StreamEvent.MaxTypeLength + 1);
        Assert.True(Parse($$"""{"entity":"{{new string('e', StreamEvent.MaxEntityLength)}}","type":"{{new string('t', StreamEvent.MaxTypeLength)}}","ts":1}""", null, out _, out _));
        Assert.False(Parse($$"""{"entity":"{{longEntity}}","type":"t","ts":1}""", null, out _, out var r1));
        Assert.Contains("entity", r1!.Detail, StringComparison.Ordinal);
        Assert.False(Parse($$"""{"entity":"a","type":"{{longType}}","ts":1}""", null, out _, out var r2));
        Assert.Contains("type", r2!.Detail, StringComparison.Ordinal);
        Assert.False(Parse("""{"type":"t","ts":1}""", longEntity, out _, out var r3));
        Assert.Equal(EventRejection.InvalidField, r3!.Reason);
    }

    [Theory]
    [InlineData("""{"entity":"a\u0000b","type":"t","ts":1}""", null, "entity")]
    [InlineData("""{"entity":"a","type":"t\u0000","ts":1}""", null, "type")]
    [InlineData("""{"id":"\u0000","entity":"a","type":"t","ts":1}""", null, "id")]
    [InlineData("""{"entity":"a","type":"t","ts":1,"attrs":{"x":"1\u00002"}}""", null, "attrs.x")]
    [InlineData("""{"entity":"a","type":"t","ts":1,"attrs":{"x\u0000":"1"}}""", null, "attribute names")]
    [InlineData("""{"type":"t","ts":1}""", "a\0b", "record key")]
    public void Rejects_the_nul_character_which_no_text_column_can_hold(string json, string? key, string field)
    {
        // PostgreSQL's text and jsonb cannot store U+0000: such an event could never be archived, so it is no event.
        Assert.False(Parse(json, key, out var evt, out var rejection));
        Assert.Null(evt);
        Assert.Equal(EventRejection.InvalidField, rejection!.Reason);
        Assert.Contains(field, rejection.Detail, StringComparison.Ordinal);
        Assert.Contains("U+0000", rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_key_that_disagrees_with_the_entity_field()
    {
        Assert.False(Parse("""{"entity":"card-1","type":"payment","ts":1}""", "card-2", out _, out var rejection));
        Assert.Equal(EventRejection.EntityMismatch, rejection!.Reason);
    }

    [Fact]
    public void Rejects_invalid_utf8()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"entity":"a","type":"t","ts":1,"attrs":{"x":"__"}}""");
        var index = Array.IndexOf(bytes, (byte)'_');
        bytes[index] = 0xC3;
        bytes[index + 1] = 0x28; // an invalid two-byte sequence
        Assert.False(StreamEventJson.TryParse(bytes, null, out _, out var rejection));
        Assert.Equal(EventRejection.InvalidJson, rejection!.Reason);
    }

    [Fact]
    public void Ignores_unknown_fields_and_null_optionals()
    {
        Assert.True(Parse("""{"entity":"a","type":"t","ts":1,"id":null,"value":null,"extra":{"deep":[1,2,{"x":null}]},"attrs":null}""", null, out var evt, out _));
        Assert.Null(evt!.Id);
        Assert.Null(evt.Value);
    }

    [Fact]
    public void Serialize_then_parse_gives_the_same_event()
    {
        var original = new StreamEvent
        {
            Id = "evt-\"quoted\"",
            Entity = "card-ü",
            Type = "payment",
            Timestamp = new DateTimeOffset(2026, 11, 24, 10, 0, 0, 123, TimeSpan.Zero),
            Value = 99.95,
            Attributes = new Dictionary<string, AttributeValue> { ["merchant"] = "m-7", ["risk"] = 0.25, ["online"] = false },
        };

        var json = StreamEventJson.Serialize(original);
        var parsed = StreamEventJson.Parse(json, "card-ü");

        Assert.Equal(original.Id, parsed.Id);
        Assert.Equal(original.Entity, parsed.Entity);
        Assert.Equal(original.Timestamp, parsed.Timestamp);
        Assert.Equal(original.Value, parsed.Value);
        Assert.Equal(original.Attributes.OrderBy(a => a.Key), parsed.Attributes.OrderBy(a => a.Key));
    }

    [Fact]
    public void Parse_throws_a_format_exception_that_names_the_reason()
    {
        var ex = Assert.Throws<FormatException>(() => StreamEventJson.Parse("{}"u8));
        Assert.StartsWith(EventRejection.MissingField, ex.Message, StringComparison.Ordinal);
    }
}
