using System.Net;
using System.Net.Sockets;
using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Tests.Thresholds;
using Spectre.Console.Testing;

namespace MeshBulkheads.LoadGen.Tests;

public class MeshLoadAppTests
{
    [Theory]
    [InlineData(new[] { "scenario", "stampede" }, "meshload: unknown scenario 'stampede' (known: baseline, noisy-neighbor")]
    [InlineData(new[] { "--stream", "method=Teleport,rate=1" }, "meshload: stream 'method=Teleport,rate=1': unknown method 'Teleport'")]
    [InlineData(new[] { "--stream", "method=GetBalance,rate=0" }, "meshload: stream 'method=GetBalance,rate=0': rate must be")]
    [InlineData(new[] { "--stream", "method=GetBalance,rate=1", "--threshold", "getbalance:p99<<5ms" }, "meshload: threshold 'getbalance:p99<<5ms'")]
    [InlineData(new[] { "run" }, "meshload: no streams")]
    [InlineData(new[] { "--stream", "method=GetBalance,rate=1", "--target", "http://127.0.0.1:8080", "--ca-file", "ca.crt" }, "meshload: --ca-file checks the gateway's TLS certificate: give an https:// --target")]
    [InlineData(new[] { "--stream", "method=GetBalance,rate=1", "--target", "https://127.0.0.1:8080", "--ca-file", "/nonexistent/ca.crt" }, "meshload: --ca-file '/nonexistent/ca.crt' is not a readable PEM CA file")]
    public async Task RunAsync_BadInput_Exit3WithOneLine(string[] args, string expected)
    {
        // Arrange
        var (io, _, error) = Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(args, io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NothingListensAtTarget_Exit3Unreachable()
    {
        // Arrange: a port that was free a moment ago and has no listener now.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var (io, _, error) = Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["--target", $"127.0.0.1:{port}", "--stream", "method=GetBalance,rate=1", "--duration", "1s"], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith($"meshload: gateway unreachable at http://127.0.0.1:{port}/", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Finish_FailedThreshold_Exit1NamingIt()
    {
        // Arrange
        var (io, _, error) = Io();
        var result = Run() with { Thresholds = [new ThresholdOutcome("payments:p99<40ms", false, "45ms"), new ThresholdOutcome("payments:ok>=90%", true, "98%")], ExitCode = ExitCodes.ThresholdFailed };

        // Act
        var exit = MeshLoadApp.Finish([result], new ParsedCommand(), io);

        // Assert
        Assert.Equal(ExitCodes.ThresholdFailed, exit);
        Assert.Contains("meshload: threshold FAILED: payments:p99<40ms (actual 45ms)", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("meshload: threshold passed: payments:ok>=90%", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Finish_InvalidRunAndFailedThreshold_Exit2()
    {
        // Arrange: a slipped schedule makes the thresholds meaningless, so invalid wins.
        var (io, _, error) = Io();
        var invalid = Run() with { Valid = false, InvalidReason = "scheduling lag p99 250.0 ms > --max-lag 100 ms", ExitCode = ExitCodes.InvalidRun };
        var failed = Run() with { ExitCode = ExitCodes.ThresholdFailed };

        // Act
        var exit = MeshLoadApp.Finish([failed, invalid], new ParsedCommand(), io);

        // Assert
        Assert.Equal(ExitCodes.InvalidRun, exit);
        Assert.Contains("meshload: invalid run: scheduling lag p99 250.0 ms", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Finish_Json_PrintsTheResultWithOutcomesByReason()
    {
        // Arrange
        var (io, output, _) = Io();

        // Act
        var exit = MeshLoadApp.Finish([Run()], new ParsedCommand { Json = true }, io);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        using var json = System.Text.Json.JsonDocument.Parse(output.ToString());
        var stream = json.RootElement.GetProperty("streams")[0];
        Assert.Equal("open-loop", json.RootElement.GetProperty("mode").GetString());
        Assert.Equal(1, stream.GetProperty("outcomes").GetProperty("UNAVAILABLE/queue-full").GetInt64());
        Assert.Equal(45, stream.GetProperty("latencyMs").GetProperty("p99").GetDouble());
    }

    [Fact]
    public void Finish_Table_ShowsEveryColumnAndTheMode()
    {
        // Arrange
        var (io, _, _) = Io();
        var console = (TestConsole)io.Console;

        // Act
        MeshLoadApp.Finish([Run()], new ParsedCommand(), io);

        // Assert
        var text = console.Output;
        foreach (var expected in new[] { "offered", "p99.9", "goodput", "UNAVAILABLE/queue-full 1", "open 100/s", "open-loop", "scheduling lag p99" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }
    }

    internal static (MeshLoadIo Io, StringWriter Out, StringWriter Error) Io()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new TestConsole();
        console.Profile.Width = 250;
        return (new MeshLoadIo(console, output, error, TimeProvider.System, _ => null, Interactive: false), output, error);
    }

    internal static RunResult Run() => new()
    {
        Target = "http://127.0.0.1:8080/",
        Mode = "open-loop",
        DurationSeconds = 1,
        Connections = 4,
        Pushback = "honour",
        MaxAttempts = 1,
        Streams = [ThresholdTests.Result("payments")],
    };
}
