using System.Text.Json;
using MeshBulkheads.Gateway;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using MeshBulkheads.ServiceDefaults.Health;

namespace MeshBulkheads.LoadGen.Tests.Running;

/// <summary>
/// <c>--ca-file</c> against the real gateway serving its public port over TLS (<c>Mesh:Tls</c>, a certificate from a
/// test CA): trusting that CA, every call is served; trusting another CA, meshload refuses the gateway's certificate and
/// no call is served (meshload never falls back to "accept any").
/// </summary>
public sealed class GatewayTlsTests : IAsyncLifetime
{
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("MeshBulkheads test gateway CA");
    private readonly TestCertificateAuthority _otherCa = TestCertificateAuthority.Create("Someone else's CA");
    private readonly TestTlsSecret _secret = new();
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("meshload-tls-").FullName;
    private readonly List<KestrelHost> _hosts = [];
    private KestrelHost _gateway = null!;
    private string _otherCaFile = null!;

    public async ValueTask InitializeAsync()
    {
        _secret.Project(_ca.Issue(), _ca.CertificatePem);
        _otherCaFile = Path.Combine(_dataDirectory, "other-ca.crt");
        await File.WriteAllTextAsync(_otherCaFile, _otherCa.CertificatePem, TestContext.Current.CancellationToken);
        var payments = await StartAsync(PaymentsApp.Build, new() { ["Payments:DataDirectory"] = _dataDirectory });
        var render = await StartAsync(RenderApp.Build, []);
        var reporting = await StartAsync(ReportingApp.Build, new() { ["Reporting:PaymentsAddress"] = payments.Endpoints.Grpc.ToString() });
        var gateway = DemoProfile.GatewaySettings(payments.Endpoints.Grpc, reporting.Endpoints.Grpc, render.Endpoints.Grpc);
        foreach (var (key, value) in _secret.Settings)
        {
            gateway[key] = value;
        }

        _gateway = await StartAsync(GatewayApp.Build, gateway);
        foreach (var host in _hosts)
        {
            var state = host.Services.GetRequiredService<ReadinessState>();
            for (var i = 0; i < 600 && !state.IsReady; i++)
            {
                await Task.Delay(25, TestContext.Current.CancellationToken);
            }

            Assert.True(state.IsReady, $"host did not become ready: {state.Reason}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].DisposeAsync();
        }

        _secret.Dispose();
        _otherCa.Dispose();
        _ca.Dispose();
        TempDirectories.TryDelete(_dataDirectory);
    }

    [Fact]
    public async Task Run_HttpsGatewayWithItsCaFile_EveryCallServed()
    {
        // Arrange
        Assert.Equal("https", _gateway.Endpoints.Grpc.Scheme);
        var (io, output, _) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(Args(_secret.CaFile), io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        var outcomes = Outcomes(output.ToString());
        Assert.Equal(new Dictionary<string, long> { ["OK"] = 10 }, outcomes);
    }

    [Fact]
    public async Task Run_HttpsGatewayWithAnotherCaFile_CertificateRefusedNoCallServed()
    {
        // Arrange
        var (io, output, _) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(Args(_otherCaFile), io, TestContext.Current.CancellationToken);

        // Assert: every call fails before it is sent (meshload refuses the handshake), none is served. grpc-dotnet's client
        // reports a refused certificate as INTERNAL ("The SSL connection could not be established"), not UNAVAILABLE.
        Assert.Equal(ExitCodes.ThresholdFailed, exit);
        var outcomes = Outcomes(output.ToString());
        Assert.DoesNotContain("OK", outcomes.Keys);
        Assert.Equal(10, outcomes.Values.Sum());
        Assert.Equal(["INTERNAL"], outcomes.Keys);
    }

    private string[] Args(string caFile) =>
    [
        "run", "--target", _gateway.Endpoints.Grpc.ToString(), "--ca-file", caFile,
        "--stream", "name=reads,key=gold,method=GetBalance,rate=10", "--duration", "1s", "--max-lag", "10s",
        "--threshold", "reads:ok==100%", "--json",
    ];

    private static Dictionary<string, long> Outcomes(string json)
    {
        using var document = JsonDocument.Parse(json);
        var stream = document.RootElement.GetProperty("streams")[0];
        return stream.GetProperty("outcomes").EnumerateObject().ToDictionary(o => o.Name, o => o.Value.GetInt64());
    }

    private async Task<KestrelHost> StartAsync(Func<string[], Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>?, Microsoft.AspNetCore.Builder.WebApplication> build, Dictionary<string, string?> configuration)
    {
        var host = await KestrelHost.StartAsync(build, configuration);
        _hosts.Add(host);
        return host;
    }
}
