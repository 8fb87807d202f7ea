using System.Net;

namespace MeshBulkheads.ServiceDefaults.Tests.Hosting;

/// <summary>
/// Admin endpoints answer on the admin listener only, whatever the spelling: the matched endpoint and
/// the connection's listener decide, not the path string or the Host header.
/// </summary>
public class AdminListenerTests
{
    [Theory]
    [InlineData("/metrics")]
    [InlineData("/metrics/")]
    [InlineData("/METRICS")]
    [InlineData("/Metrics/")]
    [InlineData("/%6Detrics")]
    [InlineData("/metrics%2F")]
    [InlineData("/healthz/")]
    [InlineData("/HEALTHZ")]
    [InlineData("/%68ealthz")]
    public async Task GrpcPort_AdminEndpointAnySpelling_NotFound(string path)
    {
        // Arrange
        await using var host = await new FakePaymentsHost().StartAsync();

        // Act
        using var response = await H2cGetAsync(host, path);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("meshbulkheads_", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrpcPort_MetricsWithAdminAuthority_NotFound()
    {
        // Arrange: :authority is the client's to choose; it must not make the gRPC port an admin port.
        await using var host = await new FakePaymentsHost().StartAsync();

        // Act
        using var response = await H2cGetAsync(host, "/metrics/", authority: host.Endpoints.Admin.Authority);

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/metrics/")]
    [InlineData("/METRICS")]
    [InlineData("/%6Detrics")]
    public async Task AdminPort_MetricsAnySpelling_Served(string path)
    {
        // Arrange
        await using var host = await new FakePaymentsHost().StartAsync();
        using var admin = host.CreateAdminClient();

        // Act
        using var response = await admin.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/readyz")]
    [InlineData("/READYZ/")]
    public async Task GrpcPort_Readyz_ServedForTheGatewaysProbes(string path)
    {
        // Arrange
        await using var host = await new FakePaymentsHost().StartAsync();

        // Act
        using var response = await H2cGetAsync(host, path);

        // Assert: the readiness endpoint answered (200 or 503), not a 404.
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable });
    }

    [Theory]
    [InlineData("/meshbulkheads.payments.v1.PaymentsService/GetBalance")]
    [InlineData("/grpc.health.v1.Health/Check")]
    [InlineData("/metrics/x")]
    public async Task AdminPort_NonAdminEndpoint_NotFound(string path)
    {
        // Arrange
        await using var host = await new FakePaymentsHost().StartAsync();
        using var admin = host.CreateAdminClient();

        // Act
        using var response = await admin.PostAsync(new Uri(path, UriKind.Relative), new ByteArrayContent([]), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>
    /// A GET on the gRPC port the way an h2c client sends it (HTTP/2 only, no upgrade), with the given
    /// <c>:authority</c> when one is given; the response's body is buffered.
    /// </summary>
    private static async Task<HttpResponseMessage> H2cGetAsync(KestrelHost host, string path, string? authority = null)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.Endpoints.Grpc, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (authority is not null)
        {
            request.Headers.Host = authority;
        }

        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
