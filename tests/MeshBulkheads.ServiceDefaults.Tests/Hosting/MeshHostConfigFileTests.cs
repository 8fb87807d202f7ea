using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.ServiceDefaults.Tests.Hosting;

/// <summary>The mounted configuration file (the Helm chart's ConfigMap) is loaded, and overridable.</summary>
public sealed class MeshHostConfigFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("meshhost-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void CreateBuilder_ConfigFileNamed_KeysWithDashesLoaded()
    {
        // Arrange
        var file = WriteConfig("""{ "Bulkheads": { "payments-read": { "MaxQueueTime": "00:00:00.250" } } }""");

        // Act
        var builder = MeshHost.CreateBuilder([$"--{MeshHost.ConfigFileKey}={file}"], typeof(MeshHostConfigFileTests).Assembly);

        // Assert
        Assert.Equal("00:00:00.250", builder.Configuration["Bulkheads:payments-read:MaxQueueTime"]);
    }

    [Fact]
    public void CreateBuilder_CommandLineSetsSameKey_CommandLineWins()
    {
        // Arrange
        var file = WriteConfig("""{ "Mesh": { "GrpcPort": 8081, "AdminPort": 9081 } }""");

        // Act
        var builder = MeshHost.CreateBuilder([$"--{MeshHost.ConfigFileKey}={file}", "--Mesh:GrpcPort=7000"], typeof(MeshHostConfigFileTests).Assembly);

        // Assert
        Assert.Equal("7000", builder.Configuration["Mesh:GrpcPort"]);
        Assert.Equal("9081", builder.Configuration["Mesh:AdminPort"]);
    }

    [Fact]
    public void CreateBuilder_ConfigFileNamedButMissing_Throws()
    {
        // Arrange
        var missing = Path.Combine(_directory, "absent.json");

        // Act
        var error = Assert.Throws<FileNotFoundException>(() => MeshHost.CreateBuilder([$"--{MeshHost.ConfigFileKey}={missing}"], typeof(MeshHostConfigFileTests).Assembly));

        // Assert
        Assert.Contains(MeshHost.ConfigFileKey, error.Message, StringComparison.Ordinal);
    }

    private string WriteConfig(string json)
    {
        var path = Path.Combine(_directory, "appsettings.json");
        File.WriteAllText(path, json);
        return path;
    }
}
