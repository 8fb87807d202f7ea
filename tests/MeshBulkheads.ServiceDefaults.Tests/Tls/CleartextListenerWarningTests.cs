using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace MeshBulkheads.ServiceDefaults.Tests.Tls;

/// <summary>
/// The start warns (<c>CleartextGrpcListener</c>, naming the endpoint) when the gRPC port listens without TLS on a
/// non-loopback address, where the API keys and identity tokens its calls carry cross a network; not on loopback
/// (<c>make run</c>) and not with <c>Mesh:Tls</c>.
/// </summary>
public sealed class CleartextListenerWarningTests : IDisposable
{
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("MeshBulkheads test CA");
    private readonly TestTlsSecret _secret = new();

    public void Dispose()
    {
        _secret.Dispose();
        _ca.Dispose();
    }

    [Fact]
    public async Task Start_CleartextOnAnyAddress_WarnsNamingTheEndpoint()
    {
        // Act: 0.0.0.0, as in a container.
        await using var host = await StartAsync(new Dictionary<string, string?> { ["Mesh:BindAddress"] = "0.0.0.0" });

        // Assert
        var warning = Assert.Single(Warnings(host));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("0.0.0.0:0", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Mesh:Tls:CertificateFile", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("0.0.0.0", true)]
    public async Task Start_LoopbackOrTls_NoWarning(string bindAddress, bool tls)
    {
        // Arrange
        var settings = new Dictionary<string, string?> { ["Mesh:BindAddress"] = bindAddress };
        if (tls)
        {
            _secret.Project(_ca.Issue());
            foreach (var (key, value) in _secret.Settings)
            {
                settings[key] = value;
            }
        }

        // Act
        await using var host = await StartAsync(settings);

        // Assert: started (the log collector saw the host's lines) and no warning.
        Assert.Equal(tls ? "https" : "http", host.Endpoints.Grpc.Scheme);
        Assert.Empty(Warnings(host));
    }

    private static Task<KestrelHost> StartAsync(IDictionary<string, string?> settings) =>
        new FakePaymentsHost().StartAsync(b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.Services.AddFakeLogging();
        });

    private static IEnumerable<FakeLogRecord> Warnings(KestrelHost host) =>
        host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Name == "CleartextGrpcListener");
}
