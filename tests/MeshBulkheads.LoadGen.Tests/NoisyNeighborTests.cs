using System.Text.Json;

namespace MeshBulkheads.LoadGen.Tests;

/// <summary>meshload against the real mesh: direction, not timing (no latency thresholds on shared cores).</summary>
[Collection(LoadGenMeshCollection.Name)]
public class NoisyNeighborTests(LoadGenMesh mesh) : IClassFixture<LoadGenMesh>
{
    [Fact]
    public async Task ScenarioNoisyNeighbor_InProcessMesh_PaymentsAllSucceedReportingShedWithPushback()
    {
        // Arrange: the library scenario, shortened and at half rate (still 3x globex's tier; fewer charges in flight on busy CI cores); its own thresholds (payments ok >= 99%, reporting rejected > 0) decide the exit code.
        var (io, output, error) = MeshLoadAppTests.Io();
        string[] args =
        [
            "scenario", "noisy-neighbor", "--target", mesh.Gateway.Endpoints.Grpc.ToString(), "--duration", "4s", "--rate-scale", "0.5", "--json",
            "--max-lag", "5s", .. mesh.Hosts.SelectMany(h => new[] { "--admin", h.Endpoints.Admin.ToString() }),
        ];

        // Act
        var exit = await MeshLoadApp.RunAsync(args, io, TestContext.Current.CancellationToken);

        // Assert
        Assert.True(exit == ExitCodes.Pass, $"exit {exit}: {error}");
        using var json = JsonDocument.Parse(output.ToString());
        var streams = json.RootElement.GetProperty("streams").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        var payments = streams["payments"];
        var reporting = streams["reporting"];
        Assert.True(payments.GetProperty("offered").GetInt64() > 0);
        Assert.Equal(payments.GetProperty("offered").GetInt64(), payments.GetProperty("ok").GetInt64());
        Assert.True(reporting.GetProperty("rejected").GetInt64() > 0, reporting.ToString());
        Assert.True(reporting.GetProperty("rejectedWithPushback").GetInt64() > 0, reporting.ToString());
        Assert.DoesNotContain(reporting.GetProperty("outcomes").EnumerateObject(), o => o.Name == "OK" && o.Value.GetInt64() == reporting.GetProperty("offered").GetInt64());
        // The scraped bulkheads' peaks are in the JSON (meshload compare reads them): reporting's own bulkhead among them
        // (as process/name: in one process every host's /metrics shows every host's meters).
        Assert.Contains(json.RootElement.GetProperty("bulkheads").EnumerateArray(), b => b.GetProperty("name").GetString() is { } name && (name == "reporting" || name.EndsWith("/reporting", StringComparison.Ordinal)) && b.GetProperty("permitLimit").GetDouble() > 0);
    }

    [Fact]
    public async Task Run_KeyTheGatewayRefuses_Exit3NamingTheStream()
    {
        // Arrange
        var (io, _, error) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(
            ["--target", mesh.Gateway.Endpoints.Grpc.ToString(), "--stream", "name=intruder,key=not-a-key,method=GetBalance,rate=20", "--duration", "2s"],
            io,
            TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("meshload: the gateway refused the key of stream 'intruder' (UNAUTHENTICATED", error.ToString(), StringComparison.Ordinal);
    }
}
