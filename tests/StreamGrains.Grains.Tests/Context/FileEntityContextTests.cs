using Microsoft.Extensions.Time.Testing;
using StreamGrains.Context;

namespace StreamGrains.Grains.Tests.Context;

public sealed class FileEntityContextTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"context-{Guid.NewGuid():N}.jsonl");

    [Fact]
    public async Task Reads_json_lines_and_sees_a_change_only_after_the_refresh_interval()
    {
        await File.WriteAllLinesAsync(_path, ["# home countries", "{\"entity\": \"card-1\", \"attrs\": {\"country\": \"NL\", \"limit\": 500, \"vip\": true}}", "", "{\"entity\": \"card-2\"}"]);
        var clock = new FakeTimeProvider();
        var source = new FileEntityContext(_path, TimeSpan.FromMinutes(1), clock);
        var context = await source.LoadAsync("card-1", default);
        Assert.Equal("NL", context["country"].Text);
        Assert.Equal(500, context["limit"].Number);
        Assert.True(context["vip"].Flag);
        Assert.Empty(await source.LoadAsync("card-2", default));
        Assert.Empty(await source.LoadAsync("card-9", default));

        await File.WriteAllLinesAsync(_path, ["{\"entity\": \"card-1\", \"attrs\": {\"country\": \"DE\"}}"]);
        File.SetLastWriteTimeUtc(_path, DateTime.UtcNow.AddSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("NL", (await source.LoadAsync("card-1", default))["country"].Text);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("DE", (await source.LoadAsync("card-1", default))["country"].Text);
    }

    [Fact]
    public async Task A_bad_line_names_the_file_and_line_and_a_bad_reload_keeps_the_last_good_contents()
    {
        await File.WriteAllLinesAsync(_path, ["{\"entity\": \"card-1\", \"attrs\": {\"country\": \"NL\"}}", "{\"attrs\": {}}"]);
        var error = Assert.Throws<FormatException>(() => new FileEntityContext(_path, TimeSpan.FromMinutes(1)));
        Assert.Contains($"{_path}, line 2", error.Message, StringComparison.Ordinal);

        await File.WriteAllLinesAsync(_path, ["{\"entity\": \"card-1\", \"attrs\": {\"country\": \"NL\"}}"]);
        var clock = new FakeTimeProvider();
        var failures = new List<Exception>();
        var source = new FileEntityContext(_path, TimeSpan.FromSeconds(10), clock, failures.Add);
        await File.WriteAllLinesAsync(_path, ["not json"]);
        File.SetLastWriteTimeUtc(_path, DateTime.UtcNow.AddSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("NL", (await source.LoadAsync("card-1", default))["country"].Text);
        Assert.IsType<FormatException>(Assert.Single(failures));
    }

    public void Dispose() => File.Delete(_path);
}
