using MeshBulkheads.ServiceDefaults.Tls;
using MeshBulkheads.ServiceDefaults.Tls.Internal;

namespace MeshBulkheads.ServiceDefaults.Tests.Tls;

/// <summary><c>Mesh:Tls</c>: both files or neither, each existing, a sane check interval.</summary>
public sealed class MeshTlsOptionsValidatorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mesh-tls-options-").FullName;

    public void Dispose() => TempDirectories.TryDelete(_directory);

    [Fact]
    public void Validate_NeitherFile_SucceedsAndTlsIsOff()
    {
        // Arrange
        var options = new MeshTlsOptions();

        // Act
        var result = new MeshTlsOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Succeeded);
        Assert.False(options.Enabled);
    }

    [Theory]
    [InlineData(true, false, "set both CertificateFile and KeyFile")]
    [InlineData(false, true, "set both CertificateFile and KeyFile")]
    [InlineData(true, true, "KeyFile '")]
    public void Validate_OneFileOrAMissingFile_FailsNamingTheKey(bool certificate, bool key, string expected)
    {
        // Arrange: with both set, the key names a file that does not exist.
        var existing = Path.Combine(_directory, "tls.crt");
        File.WriteAllText(existing, "-");
        var options = new MeshTlsOptions
        {
            CertificateFile = certificate ? existing : null,
            KeyFile = key ? Path.Combine(_directory, "missing.key") : null,
        };

        // Act
        var result = new MeshTlsOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00.500")]
    [InlineData("02:00:00")]
    public void Validate_CheckIntervalOutOfRange_Fails(string interval)
    {
        // Act
        var result = new MeshTlsOptionsValidator().Validate(null, new MeshTlsOptions { CheckInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) });

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("CheckInterval", result.FailureMessage, StringComparison.Ordinal);
    }
}
