using System.Text.Json;

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
    private readonly string _directory = Directory.CreateTempSubdirectory("meshload-tls-").FullName;
    private LoadGenMesh _mesh = null!;
    private string _otherCaFile = null!;

    private KestrelHost Gateway => _mesh.Gateway;

    public async ValueTask InitializeAsync()
    {
        _secret.Project(_ca.Issue(), _ca.CertificatePem);
        _otherCaFile = Path.Combine(_directory, "other-ca.crt");
        await File.WriteAllTextAsync(_otherCaFile, _otherCa.CertificatePem, TestContext.Current.CancellationToken);
        // The LoadGen mesh with the gateway's public port over TLS.
        _mesh = new LoadGenMesh { GatewayOverrides = _secret.Settings };
        await _mesh.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _mesh.DisposeAsync();
        _secret.Dispose();
        _otherCa.Dispose();
        _ca.Dispose();
        TempDirectories.TryDelete(_directory);
    }

    [Fact]
    public async Task Run_HttpsGatewayWithItsCaFile_EveryCallServed()
    {
        // Arrange
        Assert.Equal("https", Gateway.Endpoints.Grpc.Scheme);
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
        "run", "--target", Gateway.Endpoints.Grpc.ToString(), "--ca-file", caFile,
        "--stream", "name=reads,key=gold,method=GetBalance,rate=10", "--duration", "1s", "--max-lag", "10s",
        "--threshold", "reads:ok==100%", "--json",
    ];

    private static Dictionary<string, long> Outcomes(string json)
    {
        using var document = JsonDocument.Parse(json);
        var stream = document.RootElement.GetProperty("streams")[0];
        return stream.GetProperty("outcomes").EnumerateObject().ToDictionary(o => o.Name, o => o.Value.GetInt64());
    }
}
