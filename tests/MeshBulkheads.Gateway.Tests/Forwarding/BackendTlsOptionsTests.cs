using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary><c>Gateway:Tls:BackendCaFile</c> that cannot be a CA stops the start naming the setting (never a silent fallback to the machine's store or to "trust anything").</summary>
public sealed class BackendTlsOptionsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-backend-ca-").FullName;

    public void Dispose() => TempDirectories.TryDelete(_directory);

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("empty", "holds no PEM certificate")]
    [InlineData("not-pem", "holds no PEM certificate")]
    public async Task Start_BackendCaFileUnusable_FailsNamingTheSetting(string kind, string reason)
    {
        // Arrange
        var caFile = Path.Combine(_directory, "ca.crt");
        if (kind != "missing")
        {
            await File.WriteAllTextAsync(caFile, kind == "empty" ? string.Empty : "not a certificate", Ct);
        }

        // Act
        var failure = await Record.ExceptionAsync(() => GatewayHost.StartPaymentsOnlyAsync(GatewayHost.ClosedPort(), new Dictionary<string, string?> { ["Gateway:Tls:BackendCaFile"] = caFile }));

        // Assert: YARP's first configuration load (in Build) reads the options first and wraps their failure.
        Assert.NotNull(failure);
        var validation = Assert.IsType<OptionsValidationException>(failure as OptionsValidationException ?? failure.InnerException);
        Assert.Contains("Gateway:Tls:BackendCaFile", validation.Message, StringComparison.Ordinal);
        Assert.Contains(reason, validation.Message, StringComparison.Ordinal);
    }
}
