using System.Text.Json;
using MeshBulkheads.LoadGen.Cli;

namespace MeshBulkheads.LoadGen.Tests.RowStreams;

[Collection(LoadGenMeshCollection.Name)]
public class RowStreamCommandTests(LoadGenMesh mesh) : IClassFixture<LoadGenMesh>
{
    [Fact]
    public async Task RunAsync_SlowReadersThroughMesh_EveryRowAndRenderWriteWaitScraped()
    {
        // Arrange: rows of 6 KB read 5 ms apart, so the 48 rows of a stream outrun the HTTP/2 window and render waits.
        var (io, output, error) = MeshLoadAppTests.Io();
        string[] args =
        [
            "stream", "--target", mesh.Gateway.Endpoints.Grpc.ToString(), "--admin", mesh.Render.Endpoints.Admin.ToString(),
            "--count", "2", "--read-delay", "5ms", "--width", "2048", "--height", "48", "--iterations", "1", "--json",
        ];

        // Act
        var exit = await MeshLoadApp.RunAsync(args, io, TestContext.Current.CancellationToken).DefaultTimeout();

        // Assert
        Assert.True(exit == ExitCodes.Pass, error.ToString() + output);
        using var json = JsonDocument.Parse(output.ToString());
        var streams = json.RootElement.GetProperty("streams").EnumerateArray().ToList();
        Assert.Equal(2, streams.Count);
        Assert.All(streams, s => Assert.Equal(("OK", 48), (s.GetProperty("status").GetString(), s.GetProperty("rows").GetInt32())));
        Assert.True(json.RootElement.GetProperty("totalRowsPerSecond").GetDouble() > 0);
        var wait = json.RootElement.GetProperty("serverWriteWait");
        // The histogram is process-wide in this test process: at least this run's rows, and a wait above zero.
        Assert.True(wait.GetProperty("rows").GetDouble() >= 96, wait.ToString());
        Assert.True(wait.GetProperty("waitedSeconds").GetDouble() > 0, wait.ToString());
    }

    [Fact]
    public async Task RunAsync_TextOutput_NamesTheMetricAndRowsPerSecond()
    {
        // Arrange
        var (io, output, _) = MeshLoadAppTests.Io();
        string[] args = ["stream", "--target", mesh.Gateway.Endpoints.Grpc.ToString(), "--admin", mesh.Render.Endpoints.Admin.ToString(), "--count", "1", "--height", "64", "--width", "2048", "--iterations", "1", "--read-delay", "20ms"];

        // Act
        var exit = await MeshLoadApp.RunAsync(args, io, TestContext.Current.CancellationToken).DefaultTimeout();

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        var text = output.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        Assert.Contains("total: 64 rows, ", text, StringComparison.Ordinal);
        Assert.Contains("rows/s", text, StringComparison.Ordinal);
        Assert.Contains("render write wait (meshbulkheads_render_stream_write_wait_seconds): ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("n/a", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Options_ReadDelayCountAndKey()
    {
        // Act
        var command = CommandLine.Parse(["stream", "--read-delay", "20ms", "--count", "3", "--key", "silver", "--width", "512"], _ => null);

        // Assert
        Assert.Equal(CommandKind.Stream, command.Kind);
        var options = command.RowStream!;
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.ReadDelay);
        Assert.Equal(3, options.Count);
        Assert.Equal(DemoTenants.GlobexKey, options.ApiKey);
        Assert.Equal((512, 256), (options.Width, options.Height));
    }

    [Theory]
    [InlineData(new[] { "stream", "--read-delay", "soon" }, "meshload: --read-delay: 'soon' needs a unit")]
    [InlineData(new[] { "stream", "--count", "0" }, "meshload: --count must be an integer 1..64")]
    [InlineData(new[] { "stream", "--rate", "5" }, "meshload: unknown option '--rate' for stream")]
    public async Task RunAsync_BadStreamInput_Exit3WithOneLine(string[] args, string expected)
    {
        // Arrange
        var (io, _, error) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(args, io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith(expected, Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
