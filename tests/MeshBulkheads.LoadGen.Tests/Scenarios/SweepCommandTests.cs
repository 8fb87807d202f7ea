using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Scenarios;
using MeshBulkheads.LoadGen.Tests.Thresholds;
using Spectre.Console.Testing;

namespace MeshBulkheads.LoadGen.Tests.Scenarios;

public class SweepCommandTests
{
    [Fact]
    public void Parse_SweepOptions_AllKept()
    {
        // Act
        var command = CommandLine.Parse(
            ["sweep", "--bulkhead", "render", "--permit-key", "Render__WorkerCount", "--host", "dotnet MeshBulkheads.Render.dll", "--host-dir", "/x", "--host-admin", "127.0.0.1:9083", "--host-env", "Mesh__GrpcPort=8083", "--permits", "1,2,4", "--stream", "method=Render,rate=20", "--plot", "s.svg"],
            _ => null);

        // Assert
        Assert.Equal(CommandKind.Sweep, command.Kind);
        Assert.Equal(("render", "Render__WorkerCount", "dotnet MeshBulkheads.Render.dll", "/x", "s.svg"), (command.Bulkhead, command.PermitKey, command.HostCommand, command.HostDirectory, command.PlotPath));
        Assert.Equal(new Uri("http://127.0.0.1:9083"), command.HostAdmin);
        Assert.Equal(["Mesh__GrpcPort=8083"], command.HostEnvironment);
        Assert.Equal([1, 2, 4], command.Permits);
    }

    [Fact]
    public async Task RunAsync_NoHost_Exit3()
    {
        // Arrange
        var (io, _, error) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["sweep", "--bulkhead", "render", "--stream", "method=Render,rate=5"], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("meshload: sweep needs --host", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TableAndPlot_Points_PermitsGoodputAndP99()
    {
        // Arrange
        SweepPoint[] points = [new(1, ThresholdTests.Result("r") with { Goodput = 40 }), new(2, ThresholdTests.Result("r") with { Goodput = 80 })];
        var console = new TestConsole();
        console.Profile.Width = 200;

        // Act
        console.Write(SweepCommand.Table("Render__WorkerCount", points));
        var svg = SweepCommand.Plot("Render", "Render__WorkerCount", points);

        // Assert
        Assert.Contains("sweep of Render__WorkerCount", console.Output, StringComparison.Ordinal);
        Assert.Contains("80", console.Output, StringComparison.Ordinal);
        Assert.Contains("45.0ms", console.Output, StringComparison.Ordinal);
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
    }
}
